//! Import of the DfE "Get Information about Schools" (GIAS) establishment extract, as
//! published: a CSV with headers such as `URN`, `EstablishmentName`,
//! `TypeOfEstablishment (name)`, `PhaseOfEducation (name)`, `EstablishmentStatus (name)`,
//! `AdministrativeWard (name)` and `Postcode`, in Windows-1252 (or UTF-8). Pure: parses bytes
//! into establishments with their GIAS status (ids drawn from the given [`Sources`]); the store
//! upserts them by URN.

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::{Establishment, EstablishmentKind};
use serde::{Deserialize, Serialize};

/// Why an extract could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GiasError {
    /// A required column is missing.
    #[error("the extract has no `{0}` column")]
    MissingColumn(&'static str),
    /// The CSV itself is malformed.
    #[error("malformed CSV at record {record}: {reason}")]
    Csv {
        /// The 1-based record number.
        record: u64,
        /// What was wrong.
        reason: String,
    },
}

/// An establishment's GIAS status (`EstablishmentStatus (name)`), which decides whether
/// devices are offered it as a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstablishmentStatus {
    /// `Open`: offered.
    Open,
    /// `Open, but proposed to close`: still open, so offered.
    OpenProposedToClose,
    /// `Proposed to open`: kept on the server, not offered until GIAS lists it open.
    ProposedToOpen,
    /// `Closed`: kept for the records that name it, not offered (`closed` on the wire).
    Closed,
}

impl EstablishmentStatus {
    /// The status a GIAS extract names. A status GIAS does not publish today counts as open,
    /// as every status but a closed one did before statuses were kept.
    pub fn from_gias(text: &str) -> EstablishmentStatus {
        let text = text.trim().to_lowercase();
        if text.starts_with("closed") {
            EstablishmentStatus::Closed
        } else if text == "proposed to open" {
            EstablishmentStatus::ProposedToOpen
        } else if text == "open, but proposed to close" {
            EstablishmentStatus::OpenProposedToClose
        } else {
            EstablishmentStatus::Open
        }
    }

    /// The status of an establishment that came with none (added by hand): open unless closed.
    pub fn of(establishment: &Establishment) -> EstablishmentStatus {
        if establishment.closed {
            EstablishmentStatus::Closed
        } else {
            EstablishmentStatus::Open
        }
    }

    /// Whether devices are offered an establishment with this status.
    pub fn offered(self) -> bool {
        matches!(
            self,
            EstablishmentStatus::Open | EstablishmentStatus::OpenProposedToClose
        )
    }
}

/// One establishment of an extract with its GIAS status.
#[derive(Debug, Clone, PartialEq)]
pub struct GiasEstablishment {
    /// The establishment as devices know it (`closed` when GIAS lists it closed).
    pub establishment: Establishment,
    /// Its GIAS status.
    pub status: EstablishmentStatus,
}

/// What an extract held.
#[derive(Debug, Clone, Default)]
pub struct GiasImport {
    /// Schools and colleges of the kinds Pocketbook works with.
    pub establishments: Vec<GiasEstablishment>,
    /// Rows of other kinds (higher education, children's centres, Welsh establishments…).
    pub skipped: usize,
}

/// Our kind for a GIAS type and phase; `None` for establishments officers do not visit as
/// schools (higher education, children's centres, offshore and Welsh establishments, …).
pub fn kind_of(type_name: &str, phase_name: &str) -> Option<EstablishmentKind> {
    let t = type_name.trim().to_lowercase();
    let phase = phase_name.trim().to_lowercase();
    if t.contains("special") {
        return Some(EstablishmentKind::Special);
    }
    if t.contains("pupil referral")
        || t.contains("alternative provision")
        || t.contains("secure unit")
    {
        return Some(EstablishmentKind::PupilReferralUnit);
    }
    if t.contains("further education")
        || t.contains("sixth form")
        || t.contains("16 to 19")
        || t.contains("16-19")
    {
        return Some(EstablishmentKind::FurtherEducation);
    }
    if t.contains("independent") {
        return Some(EstablishmentKind::Independent);
    }
    let school_type = [
        "community school",
        "voluntary aided",
        "voluntary controlled",
        "foundation school",
        "academy",
        "free school",
        "university technical college",
        "studio school",
        "city technology college",
        "local authority nursery",
        "service children",
    ]
    .iter()
    .any(|k| t.contains(k));
    if !school_type {
        return None;
    }
    match phase.as_str() {
        "primary" | "middle deemed primary" | "nursery" => Some(EstablishmentKind::Primary),
        "secondary" | "middle deemed secondary" => Some(EstablishmentKind::Secondary),
        "all-through" | "all through" => Some(EstablishmentKind::AllThrough),
        "16 plus" => Some(EstablishmentKind::FurtherEducation),
        _ => None,
    }
}

/// Text of the extract: UTF-8 if it is valid UTF-8 (BOM dropped), else Windows-1252.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// Parses a GIAS extract; new establishments get ids from `sources` (the store keeps the id of
/// one it already knows by URN).
pub fn parse(bytes: &[u8], sources: &dyn Sources) -> Result<GiasImport, GiasError> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| GiasError::Csv {
            record: 0,
            reason: e.to_string(),
        })?
        .clone();
    let column = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(GiasError::MissingColumn(name))
    };
    let urn = column("URN")?;
    let name = column("EstablishmentName")?;
    let kind = column("TypeOfEstablishment (name)")?;
    let phase = column("PhaseOfEducation (name)")?;
    let status = column("EstablishmentStatus (name)")?;
    let ward = column("AdministrativeWard (name)").ok();
    let mut out = GiasImport::default();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| GiasError::Csv {
            record: i as u64 + 1,
            reason: e.to_string(),
        })?;
        let get = |c: usize| row.get(c).unwrap_or("").trim();
        let (Some(k), false) = (kind_of(get(kind), get(phase)), get(urn).is_empty()) else {
            out.skipped += 1;
            continue;
        };
        let gias_status = EstablishmentStatus::from_gias(get(status));
        out.establishments.push(GiasEstablishment {
            establishment: Establishment {
                id: sources.new_id(),
                urn: get(urn).to_string(),
                name: get(name).to_string(),
                kind: k,
                ward: ward.map(get).filter(|w| !w.is_empty()).map(str::to_string),
                dsl_contact: None,
                dedicated_officer: None,
                priority: 0,
                closed: gias_status == EstablishmentStatus::Closed,
            },
            status: gias_status,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use pocketbook_protocol::sources::SystemSources;

    use super::*;

    #[test]
    fn gias_types_and_phases_map_to_our_kinds() {
        use EstablishmentKind::*;
        let cases = [
            ("Community school", "Primary", Some(Primary)),
            ("Academy converter", "Secondary", Some(Secondary)),
            ("Academy sponsor led", "All-through", Some(AllThrough)),
            (
                "Voluntary aided school",
                "Middle deemed primary",
                Some(Primary),
            ),
            ("Free schools", "Middle deemed secondary", Some(Secondary)),
            ("Community special school", "Not applicable", Some(Special)),
            ("Academy special converter", "Secondary", Some(Special)),
            (
                "Other independent special school",
                "Not applicable",
                Some(Special),
            ),
            (
                "Pupil referral unit",
                "Not applicable",
                Some(PupilReferralUnit),
            ),
            (
                "Academy alternative provision converter",
                "Secondary",
                Some(PupilReferralUnit),
            ),
            ("Further education", "16 plus", Some(FurtherEducation)),
            ("Sixth form centres", "16 plus", Some(FurtherEducation)),
            ("Academy 16-19 converter", "16 plus", Some(FurtherEducation)),
            ("Free schools 16 to 19", "16 plus", Some(FurtherEducation)),
            (
                "Other independent school",
                "Not applicable",
                Some(Independent),
            ),
            ("University technical college", "Secondary", Some(Secondary)),
            ("Local authority nursery school", "Nursery", Some(Primary)),
            ("Higher education institutions", "Not applicable", None),
            ("Children's centre", "Not applicable", None),
            ("Welsh establishment", "Not applicable", None),
            ("Community school", "Not applicable", None),
        ];
        for (t, p, expected) in cases {
            assert_eq!(kind_of(t, p), expected, "{t} / {p}");
        }
    }

    const HEADER: &str = "URN,LA (name),EstablishmentName,TypeOfEstablishment (name),\
EstablishmentStatus (name),PhaseOfEducation (name),Postcode,AdministrativeWard (name)\r\n";

    #[test]
    fn a_windows_1252_extract_is_read_with_its_accents() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"100001,Camden,St Mary\x92s C of E Primary School,Voluntary aided school,Open,Primary,NW1 1AA,Regent\x92s Park\r\n");
        bytes.extend_from_slice(b"100002,Camden,\xC9cole Jeannine Manuel,Other independent school,\"Open, but proposed to close\",Not applicable,WC1B 3DN,Holborn\r\n");
        bytes.extend_from_slice(b"100003,Camden,Old Board School,Community school,Closed,Secondary,NW5 1AA,Kentish Town\r\n");
        bytes.extend_from_slice(b"100004,Camden,University of Somewhere,Higher education institutions,Open,Not applicable,WC1E 6BT,Bloomsbury\r\n");
        let import = parse(&bytes, &SystemSources).unwrap();
        assert_eq!(import.skipped, 1);
        let names: Vec<&str> = import
            .establishments
            .iter()
            .map(|e| e.establishment.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "St Mary’s C of E Primary School",
                "École Jeannine Manuel",
                "Old Board School"
            ]
        );
        assert_eq!(
            import.establishments[0].establishment.ward.as_deref(),
            Some("Regent’s Park")
        );
        let closed: Vec<bool> = import
            .establishments
            .iter()
            .map(|e| e.establishment.closed)
            .collect();
        assert_eq!(closed, [false, false, true]);
        let statuses: Vec<EstablishmentStatus> =
            import.establishments.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                EstablishmentStatus::Open,
                EstablishmentStatus::OpenProposedToClose,
                EstablishmentStatus::Closed
            ]
        );
    }

    #[test]
    fn a_utf8_extract_with_a_bom_is_read_too_and_a_missing_column_is_named() {
        let text = format!("\u{FEFF}{HEADER}100005,Leeds,Ysgol Gymraeg,Academy converter,Open,Primary,LS1 1AA,City\r\n");
        let import = parse(text.as_bytes(), &SystemSources).unwrap();
        assert_eq!(import.establishments[0].establishment.urn, "100005");
        let err = parse(b"URN,EstablishmentName\r\n1,x\r\n", &SystemSources).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the extract has no `TypeOfEstablishment (name)` column"
        );
    }

    #[test]
    fn gias_statuses_decide_what_devices_are_offered() {
        use EstablishmentStatus::*;
        let cases = [
            ("Open", Open, true),
            ("Open, but proposed to close", OpenProposedToClose, true),
            ("Proposed to open", ProposedToOpen, false),
            ("Closed", Closed, false),
            (" closed ", Closed, false),
        ];
        for (text, status, offered) in cases {
            assert_eq!(EstablishmentStatus::from_gias(text), status, "{text}");
            assert_eq!(status.offered(), offered, "{text}");
        }
    }
}
