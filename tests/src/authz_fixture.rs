//! Fixtures for the authorisation-table test: valid stored records of every kind (built from
//! the model's own types, so they pass the server's record guard), the one-group change each
//! cell pushes, and raw seeding of records and conflicts into a test server's SQLite file, so
//! every cell starts from a record of the authorship, team and marking it needs without going
//! through the very rules under test.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pocketbook_core::model::authz::{FieldGroup, Kind};
use pocketbook_core::model::{
    Action, ActionKind, ActionStatus, Addendum, Concern, ConcernCategory, ConcernStatus,
    Engagement, EngagementKind, Marking, PromptedBy, RecordMeta, Risk, ThriveAssessment,
    ThriveElement, TriageChange, Visit, VisitKind, VisitOutcome, VulnerabilityFlag, YoungPerson,
};
use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::{Hlc, Version};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The ids every seeded record may name: children and a concern no cell changes or deletes,
/// and the one school the test server knows.
#[derive(Debug, Clone, Copy)]
pub struct Anchors {
    /// The child every seeded visit, concern, addendum and action names.
    pub child: Uuid,
    /// A second child, for correcting a concern's link.
    pub other_child: Uuid,
    /// The concern seeded addenda belong to.
    pub concern: Uuid,
    /// The school.
    pub school: Uuid,
}

/// A record to seed: who wrote it, where it lives.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// Its kind.
    pub kind: Kind,
    /// Its id.
    pub id: Uuid,
    /// Its team.
    pub team: Uuid,
    /// Its author.
    pub author: Uuid,
    /// The device that stamped its versions.
    pub node: Uuid,
    /// Its marking.
    pub marking: Marking,
}

/// When every seeded record was written: a day before the first call, the same for the whole
/// run (versions and triage entries are compared exactly).
pub fn seeded_at() -> DateTime<Utc> {
    static AT: OnceLock<DateTime<Utc>> = OnceLock::new();
    *AT.get_or_init(|| {
        let now = Utc::now() - Duration::days(1);
        // Whole milliseconds, as versions carry them.
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    })
}

/// The version every seeded field carries.
pub fn seed_version(node: Uuid) -> Version {
    Version {
        hlc: Hlc {
            millis: pocketbook_protocol::unix_millis(seeded_at()),
            counter: 0,
        },
        node,
    }
}

/// A record's stored fields: its serialised form without `id` (the record id names it).
fn object<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(mut map)) => {
            map.remove("id");
            map
        }
        other => panic!("a record serialised to {other:?}"),
    }
}

fn element(word: &str) -> ThriveElement {
    ThriveElement {
        finding: format!("{word} finding"),
        rationale: format!("{word} rationale"),
    }
}

fn triage(at: DateTime<Utc>, by: Uuid, status: ConcernStatus) -> TriageChange {
    TriageChange {
        at,
        by,
        risk: Risk::Medium,
        status,
        assigned_lead: None,
        note: None,
    }
}

/// The fields of a valid record of `seed`'s kind.
pub fn record_fields(seed: &Seed, anchors: &Anchors) -> Map<String, Value> {
    let at = seeded_at();
    let meta = RecordMeta {
        team_id: seed.team,
        created_by: seed.author,
        created_at: at,
        marking: seed.marking,
        review_due: NaiveDate::from_ymd_opt(2032, 12, 1).unwrap_or(NaiveDate::MAX),
    };
    let id = seed.id;
    match seed.kind {
        Kind::YoungPerson => object(&YoungPerson {
            id,
            meta,
            first_name: "Amira".into(),
            last_name: "Testcase".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2012, 4, 3),
            age_band: None,
            establishment_id: Some(anchors.school),
            year_group: Some(9),
            carers: vec![],
            flags: vec![VulnerabilityFlag::ChildInNeed],
        }),
        Kind::Visit => object(&Visit {
            id,
            meta,
            kind: VisitKind::WelfareCheck,
            prompted_by: PromptedBy::School,
            young_person_ids: vec![anchors.child],
            officer_ids: vec![],
            start: at - Duration::hours(2),
            end: at - Duration::hours(1),
            place: "Home address".into(),
            location: None,
            present: vec![],
            outcome: VisitOutcome::NoConcerns,
            support_given: vec![],
            signposted_to: vec![],
            narrative: "Visited; all well.".into(),
            follow_up: None,
        }),
        Kind::Concern => object(&Concern {
            id,
            meta,
            young_person_ids: vec![anchors.child],
            happened_at: at - Duration::hours(3),
            recorded_at: at,
            category: ConcernCategory::Neglect,
            sub_categories: vec![],
            account: "Child said there is no food at home.".into(),
            childs_words: None,
            risk_text: "Ongoing neglect.".into(),
            action_text: "Spoke to the DSL.".into(),
            thrive: ThriveAssessment {
                threat: element("threat"),
                harm: element("harm"),
                risk: element("risk"),
                investigation: element("investigation"),
                vulnerability: element("vulnerability"),
                engagement: element("engagement"),
            },
            risk: Risk::Medium,
            status: ConcernStatus::New,
            assigned_lead: None,
            triage_history: vec![triage(at, seed.author, ConcernStatus::New)],
        }),
        Kind::Addendum => object(&Addendum {
            id,
            meta,
            concern_id: anchors.concern,
            young_person_ids: vec![anchors.child],
            text: "Mother called the school.".into(),
        }),
        Kind::Action => object(&Action {
            id,
            meta,
            kind: ActionKind::Mash,
            young_person_id: anchors.child,
            concern_id: None,
            recipient: "MASH".into(),
            justification: "Ongoing neglect.".into(),
            due: None,
            status: ActionStatus::Draft,
        }),
        Kind::Engagement => object(&Engagement {
            id,
            meta,
            kind: EngagementKind::Assembly,
            topics: vec![],
            establishment_id: anchors.school,
            year_groups: vec![9],
            audience_size: 30,
            at: at - Duration::hours(5),
            sweep_result: None,
            concerns_arising: String::new(),
        }),
    }
}

/// The one field an update of `group` of `kind` changes, and its new (valid) value.
pub fn group_change(
    kind: Kind,
    group: FieldGroup,
    seed: &Seed,
    anchors: &Anchors,
) -> (String, Value) {
    let (field, value) = match (kind, group) {
        (_, FieldGroup::Authorship) => ("created_at", json!(seeded_at() - Duration::days(30))),
        (_, FieldGroup::Retention) => ("review_due", json!("2031-06-01")),
        (Kind::YoungPerson, FieldGroup::Flags) => {
            ("flags", json!(["child_in_need", "looked_after"]))
        }
        (Kind::YoungPerson, _) => ("first_name", json!("Amy")),
        (Kind::Concern, FieldGroup::Account) => ("account", json!("A different account.")),
        (Kind::Concern, FieldGroup::LinkedChild) => {
            ("young_person_ids", json!([anchors.other_child]))
        }
        (Kind::Concern, FieldGroup::TriageHistory) => {
            let at = seeded_at();
            let history = vec![
                triage(at, seed.author, ConcernStatus::New),
                triage(at + Duration::hours(1), seed.author, ConcernStatus::Open),
            ];
            ("triage_history", json!(history))
        }
        (Kind::Concern, _) => ("action_text", json!("Referred to MASH.")),
        (Kind::Addendum, _) => ("text", json!("A rewritten addendum.")),
        (Kind::Visit, _) => ("place", json!("School office")),
        (Kind::Action, _) => ("recipient", json!("Children's services")),
        (Kind::Engagement, _) => ("concerns_arising", json!("None raised.")),
    };
    (field.to_string(), value)
}

/// Raw access to a test server's SQLite file, for seeding.
pub struct Seeder {
    conn: rusqlite::Connection,
}

impl Seeder {
    /// Opens the server's database file (plain SQLite: the server's is not encrypted).
    pub fn open(path: &Path) -> Seeder {
        let conn = rusqlite::Connection::open(path).expect("open the server database");
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .expect("busy timeout");
        Seeder { conn }
    }

    /// Runs `f` in one transaction.
    pub fn batch(&mut self, f: impl FnOnce(&Seeder)) {
        self.conn.execute_batch("BEGIN").expect("begin");
        f(self);
        self.conn.execute_batch("COMMIT").expect("commit");
    }

    /// Stores `fields` as the record `seed`, every field stamped with the seed version.
    pub fn record(&self, seed: &Seed, fields: &Map<String, Value>) {
        let version = seed_version(seed.node);
        let versions: BTreeMap<&String, Version> = fields.keys().map(|k| (k, version)).collect();
        self.conn
            .execute(
                "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                rusqlite::params![
                    seed.id.to_string(),
                    seed.kind.entity().as_str(),
                    seed.team.to_string(),
                    seed.marking.as_str(),
                    seed.author.to_string(),
                    Value::Object(fields.clone()).to_string(),
                    serde_json::to_string(&versions).expect("versions"),
                ],
            )
            .expect("seed a record");
    }

    /// Stores an open conflict on `seed`'s record whose losing value was stamped by `loser`.
    pub fn conflict(&self, seed: &Seed, loser: Uuid) -> String {
        let losing_version = Version {
            hlc: Hlc {
                millis: pocketbook_protocol::unix_millis(seeded_at()) + 1,
                counter: 0,
            },
            node: loser,
        };
        let conflict = Conflict {
            id: pocketbook_protocol::merge::conflict_id(seed.id, "created_at", losing_version),
            entity: seed.kind.entity(),
            record_id: seed.id,
            field: "created_at".into(),
            losing_value: json!(seeded_at() - Duration::hours(1)),
            losing_version,
            winning_value: json!(seeded_at()),
            winning_version: seed_version(seed.node),
        };
        self.conn
            .execute(
                "INSERT INTO conflicts (id, record_id, data, resolved) VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![
                    conflict.id,
                    seed.id.to_string(),
                    serde_json::to_string(&conflict).expect("conflict"),
                ],
            )
            .expect("seed a conflict");
        conflict.id
    }

    /// How many rows of the server's kept content of deleted records contain `text`.
    pub fn retained_containing(&self, text: &str) -> i64 {
        self.conn
            .query_row(
                "SELECT count(*) FROM retained WHERE instr(fields, ?1) > 0",
                [text],
                |row| row.get(0),
            )
            .expect("count kept content")
    }

    /// Whether the conflict is resolved.
    pub fn resolved(&self, id: &str) -> bool {
        self.conn
            .query_row(
                "SELECT resolved FROM conflicts WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .expect("conflict row")
    }
}
