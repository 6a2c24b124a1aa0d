//! FFI-safe mirrors of the core's records and enumerations, converted with `From` both ways.
//! Ids cross as strings (UUID text), instants as timestamps, dates as `YYYY-MM-DD` strings.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use pocketbook_core::model as m;
use uuid::Uuid;

use crate::error::{PocketbookError, Result};

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});

/// An instant (UTC); `java.time.Instant` in Kotlin, `Date` in Swift, `datetime` in Python.
pub type Timestamp = DateTime<Utc>;

uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |t| t.into(),
    try_lift: |t| Ok(DateTime::<Utc>::from(t)),
});

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |text| Ok(NaiveDate::parse_from_str(&text, "%Y-%m-%d")?),
});

/// Mirrors a core enumeration variant for variant, with `From` both ways.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident = $core:ty { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($(#[$vdoc])* $v),+ }
        impl From<$core> for $name {
            fn from(x: $core) -> Self { match x { $(<$core>::$v => $name::$v),+ } }
        }
        impl From<$name> for $core {
            fn from(x: $name) -> Self { match x { $($name::$v => <$core>::$v),+ } }
        }
    };
}

/// Mirrors an open core enumeration (one a newer peer may extend): every known variant, plus
/// `Unknown` for a value this build cannot name. `Unknown` is for reading only; a draft that
/// holds it is refused as invalid input.
macro_rules! mirror_open_enum {
    ($(#[$doc:meta])* $name:ident = $core:ty { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $($(#[$vdoc])* $v,)+
            /// A value written by a newer app or server that this build cannot name. Shown as
            /// unknown; never written.
            Unknown,
        }
        impl From<$core> for $name {
            fn from(x: $core) -> Self {
                match x { $(<$core>::$v => $name::$v,)+ _ => $name::Unknown }
            }
        }
        impl From<$name> for $core {
            fn from(x: $name) -> Self {
                match x {
                    $($name::$v => <$core>::$v,)+
                    $name::Unknown => <$core>::Unknown(String::new()),
                }
            }
        }
    };
}

pub(crate) use mirror_open_enum;

mirror_enum!(
    /// Protective marking.
    Marking = m::Marking {
        /// OFFICIAL.
        Official,
        /// OFFICIAL-SENSITIVE.
        OfficialSensitive
    }
);
mirror_enum!(
    /// What an officer may do and see.
    Role = m::Role {
        /// Officer.
        Officer,
        /// Supervisor.
        Supervisor,
        /// Safeguarding lead.
        SafeguardingLead,
        /// Auditor.
        Auditor,
        /// Admin.
        Admin
    }
);
mirror_enum!(
    /// Kind of establishment.
    EstablishmentKind = m::EstablishmentKind {
        /// Primary.
        Primary,
        /// Secondary.
        Secondary,
        /// All-through.
        AllThrough,
        /// Special.
        Special,
        /// PRU / alternative provision.
        PupilReferralUnit,
        /// Further education.
        FurtherEducation,
        /// Independent.
        Independent
    }
);
mirror_open_enum!(
    /// Age band.
    AgeBand = m::AgeBand {
        /// Under 5.
        Under5,
        /// 5-10.
        From5To10,
        /// 11-13.
        From11To13,
        /// 14-15.
        From14To15,
        /// 16-17.
        From16To17,
        /// 18-25.
        From18To25
    }
);
mirror_open_enum!(
    /// Vulnerability flag.
    VulnerabilityFlag = m::VulnerabilityFlag {
        /// Child in need.
        ChildInNeed,
        /// Child protection plan.
        ChildProtectionPlan,
        /// Looked after.
        LookedAfter,
        /// SEND.
        Send,
        /// Missing episodes.
        MissingEpisodes,
        /// Young carer.
        YoungCarer,
        /// Known to youth justice.
        KnownToYouthJustice
    }
);
mirror_open_enum!(
    /// Kind of visit.
    VisitKind = m::VisitKind {
        /// Welfare check.
        WelfareCheck,
        /// Food parcel.
        FoodParcel,
        /// Online safety support.
        OnlineSafetySupport,
        /// Signposting.
        Signposting,
        /// Follow-up.
        FollowUp,
        /// Cadet support.
        CadetSupport,
        /// No access.
        NoAccess
    }
);
mirror_open_enum!(
    /// Who prompted a visit.
    PromptedBy = m::PromptedBy {
        /// School.
        School,
        /// Council.
        Council,
        /// MASH.
        Mash,
        /// Police.
        Police,
        /// Parent or the young person.
        ParentOrSelf
    }
);
mirror_open_enum!(
    /// How a visit ended.
    VisitOutcome = m::VisitOutcome {
        /// No concerns.
        NoConcerns,
        /// Advice given.
        AdviceGiven,
        /// Signposted.
        Signposted,
        /// Concern raised.
        ConcernRaised,
        /// Referral made.
        ReferralMade
    }
);
mirror_open_enum!(
    /// Support given on a visit.
    SupportGiven = m::SupportGiven {
        /// Food.
        Food,
        /// Safety advice.
        SafetyAdvice,
        /// Online safety advice.
        OnlineSafetyAdvice,
        /// Emotional support.
        EmotionalSupport,
        /// Attendance support.
        AttendanceSupport,
        /// School liaison.
        SchoolLiaison,
        /// Crime prevention.
        CrimePrevention
    }
);
mirror_open_enum!(
    /// Safeguarding category.
    ConcernCategory = m::ConcernCategory {
        /// Physical abuse.
        PhysicalAbuse,
        /// Emotional abuse.
        EmotionalAbuse,
        /// Sexual abuse.
        SexualAbuse,
        /// Neglect.
        Neglect,
        /// CSE.
        Cse,
        /// Criminal exploitation.
        CriminalExploitation,
        /// Serious violence.
        SeriousViolence,
        /// Child-on-child abuse.
        ChildOnChildAbuse,
        /// Online harm.
        OnlineHarm,
        /// Domestic abuse.
        DomesticAbuse,
        /// Missing.
        Missing,
        /// Radicalisation.
        Radicalisation,
        /// FGM, forced marriage, HBA.
        FgmForcedMarriageHba,
        /// Mental health, self-harm.
        MentalHealthSelfHarm,
        /// Substances.
        Substances,
        /// Trafficking.
        Trafficking,
        /// Other.
        Other
    }
);
mirror_open_enum!(
    /// Risk level.
    Risk = m::Risk {
        /// Low.
        Low,
        /// Medium.
        Medium,
        /// High.
        High
    }
);
mirror_open_enum!(
    /// Concern status.
    ConcernStatus = m::ConcernStatus {
        /// New.
        New,
        /// Open.
        Open,
        /// Monitoring.
        Monitoring,
        /// Closed.
        Closed,
        /// No further action.
        Nfa
    }
);

/// The officer's session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Session {
    /// Officer id.
    pub officer_id: Uuid,
    /// Officer name.
    pub officer_name: String,
    /// Shoulder number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
    /// Team ids.
    pub team_ids: Vec<Uuid>,
    /// This device's id.
    pub device_id: Uuid,
    /// The server, once enrolled.
    pub server_url: Option<String>,
    /// Last sync.
    pub last_sync_at: Option<Timestamp>,
    /// Lease expiry.
    pub lease_expires_at: Option<Timestamp>,
}

impl From<pocketbook_core::Session> for Session {
    fn from(s: pocketbook_core::Session) -> Self {
        Session {
            officer_id: s.officer.id,
            officer_name: s.officer.name,
            shoulder_number: s.officer.shoulder_number,
            role: s.officer.role.into(),
            team_ids: s.officer.team_ids,
            device_id: s.device_id,
            server_url: s.server_url,
            last_sync_at: s.last_sync_at,
            lease_expires_at: s.lease_expires_at,
        }
    }
}

/// An establishment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Establishment {
    /// Id.
    pub id: Uuid,
    /// DfE URN.
    pub urn: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: EstablishmentKind,
    /// Ward.
    pub ward: Option<String>,
}

impl From<m::Establishment> for Establishment {
    fn from(e: m::Establishment) -> Self {
        Establishment {
            id: e.id,
            urn: e.urn,
            name: e.name,
            kind: e.kind.into(),
            ward: e.ward,
        }
    }
}

/// An officer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Officer {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Shoulder number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
}

impl From<m::Officer> for Officer {
    fn from(o: m::Officer) -> Self {
        Officer {
            id: o.id,
            name: o.name,
            shoulder_number: o.shoulder_number,
            role: o.role.into(),
        }
    }
}

/// What a caller gives to add a young person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct YoungPersonDraft {
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth (YYYY-MM-DD).
    pub date_of_birth: Option<NaiveDate>,
    /// Age band when the date of birth is unknown.
    pub age_band: Option<AgeBand>,
    /// Establishment id.
    pub establishment_id: Option<Uuid>,
    /// Year group.
    pub year_group: Option<u8>,
    /// Vulnerability flags.
    pub flags: Vec<VulnerabilityFlag>,
}

impl From<YoungPersonDraft> for m::YoungPersonDraft {
    fn from(d: YoungPersonDraft) -> Self {
        m::YoungPersonDraft {
            first_name: d.first_name,
            last_name: d.last_name,
            date_of_birth: d.date_of_birth,
            age_band: d.age_band.map(Into::into),
            establishment_id: d.establishment_id,
            year_group: d.year_group,
            carers: Vec::new(),
            flags: d.flags.into_iter().map(Into::into).collect(),
        }
    }
}

/// A young person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct YoungPerson {
    /// Id.
    pub id: Uuid,
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Establishment id.
    pub establishment_id: Option<Uuid>,
    /// Year group.
    pub year_group: Option<u8>,
    /// Vulnerability flags.
    pub flags: Vec<VulnerabilityFlag>,
}

impl From<m::YoungPerson> for YoungPerson {
    fn from(p: m::YoungPerson) -> Self {
        YoungPerson {
            id: p.id,
            first_name: p.first_name,
            last_name: p.last_name,
            date_of_birth: p.date_of_birth,
            establishment_id: p.establishment_id,
            year_group: p.year_group,
            flags: p.flags.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a caller gives to record a visit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VisitDraft {
    /// Kind.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// Young people visited.
    pub young_person_ids: Vec<Uuid>,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Address or ward.
    pub place: String,
    /// Who was present.
    pub present: Vec<String>,
    /// Outcome.
    pub outcome: VisitOutcome,
    /// Support given.
    pub support_given: Vec<SupportGiven>,
    /// What happened.
    pub narrative: String,
    /// Follow-up date.
    pub follow_up: Option<NaiveDate>,
}

impl From<VisitDraft> for m::VisitDraft {
    fn from(d: VisitDraft) -> Self {
        m::VisitDraft {
            kind: d.kind.into(),
            prompted_by: d.prompted_by.into(),
            young_person_ids: d.young_person_ids,
            officer_ids: Vec::new(),
            start: d.start,
            end: d.end,
            place: d.place,
            location: None,
            present: d.present,
            outcome: d.outcome.into(),
            support_given: d.support_given.into_iter().map(Into::into).collect(),
            signposted_to: Vec::new(),
            narrative: d.narrative,
            follow_up: d.follow_up,
            marking: None,
        }
    }
}

/// A change to a visit: only the fields given change.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct VisitUpdate {
    /// New narrative.
    #[uniffi(default = None)]
    pub narrative: Option<String>,
    /// New outcome.
    #[uniffi(default = None)]
    pub outcome: Option<VisitOutcome>,
    /// New place.
    #[uniffi(default = None)]
    pub place: Option<String>,
    /// New start.
    #[uniffi(default = None)]
    pub start: Option<Timestamp>,
    /// New end.
    #[uniffi(default = None)]
    pub end: Option<Timestamp>,
}

impl From<VisitUpdate> for m::VisitUpdate {
    fn from(u: VisitUpdate) -> Self {
        m::VisitUpdate {
            narrative: u.narrative,
            outcome: u.outcome.map(Into::into),
            place: u.place,
            start: u.start,
            end: u.end,
            ..m::VisitUpdate::default()
        }
    }
}

/// A visit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Visit {
    /// Id.
    pub id: Uuid,
    /// Team.
    pub team_id: Uuid,
    /// Marking.
    pub marking: Marking,
    /// Kind.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// Young people.
    pub young_person_ids: Vec<Uuid>,
    /// Officers.
    pub officer_ids: Vec<Uuid>,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Place.
    pub place: String,
    /// Outcome.
    pub outcome: VisitOutcome,
    /// Narrative.
    pub narrative: String,
    /// Follow-up date.
    pub follow_up: Option<NaiveDate>,
}

impl From<m::Visit> for Visit {
    fn from(v: m::Visit) -> Self {
        Visit {
            id: v.id,
            team_id: v.meta.team_id,
            marking: v.meta.marking.into(),
            kind: v.kind.into(),
            prompted_by: v.prompted_by.into(),
            young_person_ids: v.young_person_ids,
            officer_ids: v.officer_ids,
            start: v.start,
            end: v.end,
            place: v.place,
            outcome: v.outcome.into(),
            narrative: v.narrative,
            follow_up: v.follow_up,
        }
    }
}

/// One THRIVE element.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ThriveElement {
    /// Finding.
    pub finding: String,
    /// Rationale (required).
    pub rationale: String,
}

/// THRIVE assessment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Thrive {
    /// Threat.
    pub threat: ThriveElement,
    /// Harm.
    pub harm: ThriveElement,
    /// Risk.
    pub risk: ThriveElement,
    /// Investigation.
    pub investigation: ThriveElement,
    /// Vulnerability.
    pub vulnerability: ThriveElement,
    /// Engagement.
    pub engagement: ThriveElement,
}

fn element(e: ThriveElement) -> m::ThriveElement {
    m::ThriveElement {
        finding: e.finding,
        rationale: e.rationale,
    }
}

/// What a caller gives to raise a concern.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConcernDraft {
    /// Young people involved.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: Timestamp,
    /// Category.
    pub category: ConcernCategory,
    /// What happened.
    pub account: String,
    /// The child's own words.
    pub childs_words: Option<String>,
    /// Risk in words.
    pub risk_text: String,
    /// Action taken or proposed.
    pub action_text: String,
    /// THRIVE.
    pub thrive: Thrive,
    /// Risk level (required).
    pub risk: Option<Risk>,
    /// Marking (OFFICIAL-SENSITIVE unless given).
    pub marking: Option<Marking>,
}

impl From<ConcernDraft> for m::ConcernDraft {
    fn from(d: ConcernDraft) -> Self {
        m::ConcernDraft {
            young_person_ids: d.young_person_ids,
            happened_at: d.happened_at,
            category: d.category.into(),
            sub_categories: Vec::new(),
            account: d.account,
            childs_words: d.childs_words,
            risk_text: d.risk_text,
            action_text: d.action_text,
            thrive: m::ThriveAssessment {
                threat: element(d.thrive.threat),
                harm: element(d.thrive.harm),
                risk: element(d.thrive.risk),
                investigation: element(d.thrive.investigation),
                vulnerability: element(d.thrive.vulnerability),
                engagement: element(d.thrive.engagement),
            },
            risk: d.risk.map(Into::into),
            assigned_lead: None,
            marking: d.marking.map(Into::into),
        }
    }
}

/// A triage change.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ConcernTriageUpdate {
    /// New risk.
    #[uniffi(default = None)]
    pub risk: Option<Risk>,
    /// New status.
    #[uniffi(default = None)]
    pub status: Option<ConcernStatus>,
    /// New marking.
    #[uniffi(default = None)]
    pub marking: Option<Marking>,
    /// Why.
    #[uniffi(default = None)]
    pub note: Option<String>,
}

impl From<ConcernTriageUpdate> for m::ConcernTriageUpdate {
    fn from(u: ConcernTriageUpdate) -> Self {
        m::ConcernTriageUpdate {
            risk: u.risk.map(Into::into),
            status: u.status.map(Into::into),
            assigned_lead: None,
            marking: u.marking.map(Into::into),
            note: u.note,
        }
    }
}

/// A concern.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Concern {
    /// Id.
    pub id: Uuid,
    /// Marking.
    pub marking: Marking,
    /// Young people.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: Timestamp,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Category.
    pub category: ConcernCategory,
    /// The account.
    pub account: String,
    /// The child's words.
    pub childs_words: Option<String>,
    /// Risk.
    pub risk: Risk,
    /// Status.
    pub status: ConcernStatus,
    /// How many triage changes (the first is the raising).
    pub triage_changes: u32,
}

impl From<m::Concern> for Concern {
    fn from(c: m::Concern) -> Self {
        Concern {
            id: c.id,
            marking: c.meta.marking.into(),
            young_person_ids: c.young_person_ids,
            happened_at: c.happened_at,
            recorded_at: c.recorded_at,
            category: c.category.into(),
            account: c.account,
            childs_words: c.childs_words,
            risk: c.risk.into(),
            status: c.status.into(),
            triage_changes: c.triage_history.len().min(u32::MAX as usize) as u32,
        }
    }
}

/// An addendum.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Addendum {
    /// Id.
    pub id: Uuid,
    /// The concern.
    pub concern_id: Uuid,
    /// When it was added.
    pub created_at: Timestamp,
    /// Text.
    pub text: String,
}

impl From<m::Addendum> for Addendum {
    fn from(a: m::Addendum) -> Self {
        Addendum {
            id: a.id,
            concern_id: a.concern_id,
            created_at: a.meta.created_at,
            text: a.text,
        }
    }
}

/// Kind of chronology entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChronologyKind {
    /// Visit.
    Visit,
    /// Concern.
    Concern,
    /// Addendum.
    Addendum,
    /// Action.
    Action,
}

/// One chronology line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ChronologyEntry {
    /// When it happened.
    pub happened_at: Timestamp,
    /// Kind.
    pub kind: ChronologyKind,
    /// Record id.
    pub record_id: Uuid,
    /// Heading.
    pub title: String,
    /// Text.
    pub detail: String,
}

impl From<pocketbook_core::ChronologyEntry> for ChronologyEntry {
    fn from(e: pocketbook_core::ChronologyEntry) -> Self {
        use pocketbook_core::ChronologyKind as K;
        ChronologyEntry {
            happened_at: e.happened_at,
            kind: match e.kind {
                K::Visit => ChronologyKind::Visit,
                K::Concern => ChronologyKind::Concern,
                K::Addendum => ChronologyKind::Addendum,
                K::Action => ChronologyKind::Action,
            },
            record_id: e.record_id,
            title: e.title,
            detail: e.detail,
        }
    }
}

/// A change waiting to be pushed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingChange {
    /// Sequence number.
    pub seq: u64,
    /// Entity name.
    pub entity: String,
    /// Record id.
    pub record_id: Uuid,
    /// create, update or delete.
    pub kind: String,
    /// The fields it changes.
    pub fields: Vec<String>,
}

impl From<pocketbook_core::Mutation> for PendingChange {
    fn from(m: pocketbook_core::Mutation) -> Self {
        PendingChange {
            seq: m.seq,
            entity: m.entity.to_string(),
            record_id: m.record_id,
            kind: match m.kind {
                pocketbook_core::MutationKind::Create => "create",
                pocketbook_core::MutationKind::Update => "update",
                pocketbook_core::MutationKind::Delete => "delete",
            }
            .to_string(),
            fields: m.fields.into_keys().collect(),
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    /// Mutations the server took.
    pub pushed: u64,
    /// Of which merged with concurrent edits.
    pub merged: u64,
    /// Mutations refused.
    pub rejected: u64,
    /// Snapshots received.
    pub pulled: u64,
    /// Records removed (left scope).
    pub removed: u64,
    /// Conflicts received.
    pub conflicts: u64,
    /// Bytes sent on the wire.
    pub bytes_sent: u64,
    /// Bytes received on the wire.
    pub bytes_received: u64,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

impl From<pocketbook_core::SyncReport> for SyncReport {
    fn from(r: pocketbook_core::SyncReport) -> Self {
        SyncReport {
            pushed: r.pushed,
            merged: r.merged,
            rejected: r.rejected,
            pulled: r.pulled,
            removed: r.removed,
            conflicts: r.conflicts,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            duration_ms: r.duration_ms,
        }
    }
}

/// A refused mutation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedChange {
    /// Its sequence number.
    pub seq: u64,
    /// Entity.
    pub entity: String,
    /// Record id.
    pub record_id: Uuid,
    /// The server's code.
    pub code: String,
    /// The server's reason.
    pub message: String,
}

/// Where sync stands.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    /// Server.
    pub server_url: String,
    /// Last sync.
    pub last_sync_at: Option<Timestamp>,
    /// Lease expiry.
    pub lease_expires_at: Timestamp,
    /// Pending mutations.
    pub pending: u64,
    /// Open conflicts.
    pub open_conflicts: u64,
    /// Refused mutations.
    pub rejected: Vec<RejectedChange>,
}

impl From<pocketbook_core::SyncStatus> for SyncStatus {
    fn from(s: pocketbook_core::SyncStatus) -> Self {
        SyncStatus {
            server_url: s.server_url,
            last_sync_at: s.last_sync_at,
            lease_expires_at: s.lease_expires_at,
            pending: s.pending,
            open_conflicts: s.open_conflicts,
            rejected: s
                .rejected
                .into_iter()
                .map(|r| RejectedChange {
                    seq: r.seq,
                    entity: r.entity,
                    record_id: r.record_id,
                    code: r.code,
                    message: r.message,
                })
                .collect(),
        }
    }
}

/// A conflict: a value that lost a concurrent edit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Conflict {
    /// Id.
    pub id: String,
    /// Entity.
    pub entity: String,
    /// Record.
    pub record_id: Uuid,
    /// Field.
    pub field: String,
    /// The value kept (JSON).
    pub winning_value: String,
    /// The value that lost (JSON).
    pub losing_value: String,
}

impl From<pocketbook_core::Conflict> for Conflict {
    fn from(c: pocketbook_core::Conflict) -> Self {
        Conflict {
            id: c.id,
            entity: c.entity.to_string(),
            record_id: c.record_id,
            field: c.field,
            winning_value: c.winning_value.to_string(),
            losing_value: c.losing_value.to_string(),
        }
    }
}

/// How to resolve a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictChoice {
    /// Keep the current value.
    KeepCurrent,
    /// Put the losing value back.
    TakeLosing,
}

impl From<ConflictChoice> for pocketbook_core::ConflictChoice {
    fn from(c: ConflictChoice) -> Self {
        match c {
            ConflictChoice::KeepCurrent => pocketbook_core::ConflictChoice::KeepCurrent,
            ConflictChoice::TakeLosing => pocketbook_core::ConflictChoice::TakeLosing,
        }
    }
}

/// Maps a list of core values.
pub(crate) fn list<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(Into::into).collect()
}

/// A 32-byte key from the bytes the host app holds.
pub(crate) fn key(bytes: &[u8]) -> Result<pocketbook_core::StoreKey> {
    pocketbook_core::StoreKey::from_bytes(bytes).map_err(|_| PocketbookError::InvalidInput {
        field: "key".into(),
        reason: "the key must be exactly 32 bytes".into(),
    })
}
