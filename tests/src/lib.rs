//! Fixtures shared by Pocketbook's cross-crate tests and the crash-test child process: a
//! provisioned encrypted store in a temporary directory, sample drafts, and raw access to the
//! database file for checks the public API does not offer.

pub mod authz_fixture;
pub mod bench_data;
pub mod fake_server;
pub mod fork_fixture;
pub mod http_transport;
pub mod openapi;
pub mod pg;
pub mod process_server;
pub mod restore_fixture;
pub mod resync_fixture;
pub mod server;
pub mod sim;
pub mod store_fixture;
pub mod wire_v1;

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use pocketbook_core::model::{
    ConcernCategory, ConcernDraft, Establishment, EstablishmentKind, Officer, PromptedBy, Risk,
    Role, SupportGiven, Team, ThriveAssessment, ThriveElement, VisitDraft, VisitKind, VisitOutcome,
    VulnerabilityFlag, YoungPersonDraft,
};
use pocketbook_core::{OpenConfig, Pocketbook, Provisioning, StoreKey};
use uuid::Uuid;

/// A plain HTTP client for tests that talk to the server directly (rustls with the ring
/// provider, as the core uses).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The team every fixture officer belongs to.
pub const TEAM: Uuid = Uuid::from_u128(0x0192_f0a0_0000_7000_8000_0000_0000_00a1);
/// The provisioned officer.
pub const OFFICER: Uuid = Uuid::from_u128(0x0192_f0a0_0000_7000_8000_0000_0000_0001);
/// A colleague (supervisor).
pub const SUPERVISOR: Uuid = Uuid::from_u128(0x0192_f0a0_0000_7000_8000_0000_0000_0002);
/// A known establishment.
pub const SCHOOL: Uuid = Uuid::from_u128(0x0192_f0a0_0000_7000_8000_0000_0000_00e1);
/// The fixed test key, as hex.
pub const KEY_HEX: &str = "6b1f2a9c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

/// A sentence no store file may contain in clear.
pub const SECRET_NARRATIVE: &str = "Zebra-crossing-marmalade disclosure: bruising on left arm";

/// Provisioning data for the fixture officer.
pub fn provisioning() -> Provisioning {
    Provisioning {
        officer: Officer {
            id: OFFICER,
            name: "PC Sam Okafor".into(),
            shoulder_number: "4172".into(),
            role: Role::Officer,
            team_ids: vec![TEAM],
        },
        teams: vec![Team {
            id: TEAM,
            name: "Northfield Safer Schools Team".into(),
        }],
        officers: vec![Officer {
            id: SUPERVISOR,
            name: "PS Jo Hartley".into(),
            shoulder_number: "2210".into(),
            role: Role::Supervisor,
            team_ids: vec![TEAM],
        }],
        establishments: vec![Establishment {
            id: SCHOOL,
            urn: "103254".into(),
            name: "Northfield Academy".into(),
            kind: EstablishmentKind::Secondary,
            ward: Some("Northfield".into()),
            dsl_contact: None,
            dedicated_officer: Some(OFFICER),
            priority: 3,
            closed: false,
        }],
    }
}

/// The fixed test key.
pub fn key() -> StoreKey {
    StoreKey::from_hex(KEY_HEX).expect("fixture key is valid hex")
}

/// Opens (or creates) the store at `path` with the fixture key.
pub fn open_at(path: &Path) -> pocketbook_core::Result<Pocketbook> {
    Pocketbook::open(OpenConfig {
        db_path: path.to_path_buf(),
        key: key(),
        device_name: "test device".into(),
    })
}

/// A temporary directory holding one store.
pub struct Fixture {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The database file.
    pub path: PathBuf,
    /// The open store, provisioned.
    pub book: Pocketbook,
}

impl Fixture {
    /// A new provisioned store.
    pub fn new() -> Self {
        let fixture = Self::unprovisioned();
        fixture
            .book
            .provision(&provisioning())
            .expect("fixture provisioning loads");
        fixture
    }

    /// A new store with no session.
    pub fn unprovisioned() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pocketbook.db");
        let book = open_at(&path).expect("new store opens");
        Fixture { dir, path, book }
    }

    /// A raw SQLCipher connection to the same file, for inspecting or tampering.
    pub fn raw(&self) -> rusqlite::Connection {
        raw_connection(&self.path)
    }

    /// Counts rows of a table through the raw connection.
    pub fn count(&self, table: &str) -> i64 {
        self.raw()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count rows")
    }

    /// Adds a young person and returns their id.
    pub fn young_person(&self) -> Uuid {
        self.book
            .add_young_person(person_draft())
            .expect("young person is added")
            .id
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// A raw SQLCipher connection to a store file opened with the fixture key.
pub fn raw_connection(path: &Path) -> rusqlite::Connection {
    pocketbook_core::activate_sqlcipher();
    let conn = rusqlite::Connection::open(path).expect("open raw");
    conn.execute_batch(&format!(
        "PRAGMA cipher_log_level = 'NONE'; PRAGMA key = \"x'{KEY_HEX}'\";"
    ))
    .expect("apply key");
    conn
}

/// The young people `record`'s chronology links name in the store at `path`, in order.
pub fn chronology_links(path: &Path, record: Uuid) -> Vec<String> {
    let raw = raw_connection(path);
    let mut stmt = raw
        .prepare("SELECT young_person_id FROM record_people WHERE record_id = ?1 ORDER BY 1")
        .expect("links query");
    let rows = stmt
        .query_map([record.to_string()], |r| r.get(0))
        .expect("links");
    rows.map(|r| r.expect("link")).collect()
}

/// A valid young-person draft.
pub fn person_draft() -> YoungPersonDraft {
    YoungPersonDraft {
        first_name: "Amira".into(),
        last_name: "Testcase".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(2012, 4, 3),
        age_band: None,
        establishment_id: Some(SCHOOL),
        year_group: Some(9),
        carers: vec![],
        flags: vec![VulnerabilityFlag::ChildInNeed],
    }
}

/// A valid visit draft for one young person, started `hours_ago`.
pub fn visit_draft(young_person: Uuid, hours_ago: i64) -> VisitDraft {
    let start = Utc::now() - Duration::hours(hours_ago);
    VisitDraft {
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![young_person],
        officer_ids: vec![],
        start,
        end: start + Duration::minutes(40),
        place: "Home address".into(),
        location: Some((52.48, -1.89)),
        present: vec!["mother".into()],
        outcome: VisitOutcome::AdviceGiven,
        support_given: vec![SupportGiven::Food],
        signposted_to: vec!["Food bank".into()],
        narrative: SECRET_NARRATIVE.into(),
        follow_up: None,
        marking: None,
    }
}

fn element(text: &str) -> ThriveElement {
    ThriveElement {
        finding: format!("{text} finding"),
        rationale: format!("{text} rationale"),
    }
}

/// A valid concern draft that happened `hours_ago`.
pub fn concern_draft(young_person: Uuid, hours_ago: i64) -> ConcernDraft {
    ConcernDraft {
        young_person_ids: vec![young_person],
        happened_at: Utc::now() - Duration::hours(hours_ago),
        category: ConcernCategory::Neglect,
        sub_categories: vec![ConcernCategory::Missing],
        account: "Child disclosed there is often no food at home.".into(),
        childs_words: Some("There's never anything for tea.".into()),
        risk_text: "Ongoing neglect; younger siblings at home.".into(),
        action_text: "Spoke to DSL; MASH referral to follow.".into(),
        thrive: ThriveAssessment {
            threat: element("threat"),
            harm: element("harm"),
            risk: element("risk"),
            investigation: element("investigation"),
            vulnerability: element("vulnerability"),
            engagement: element("engagement"),
        },
        risk: Some(Risk::Medium),
        assigned_lead: Some(SUPERVISOR),
        marking: None,
    }
}
