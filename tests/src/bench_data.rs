//! Records for the sync benchmarks: visits shaped exactly as the core writes them (the fields
//! of a real `record_visit` mutation), with narratives drawn from a varied vocabulary so they
//! compress like real notes rather than a repeated sentence. Deterministic for a seed.

use chrono::{Duration, Utc};
use pocketbook_protocol::{Hlc, Mutation, Version};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{visit_draft, Fixture};

const OPENERS: &[&str] = &[
    "Attended",
    "Visited",
    "Called at",
    "Met staff at",
    "Spoke with the family at",
    "Arrived at",
    "Followed up at",
    "Returned to",
    "Checked in at",
    "Dropped by",
];
const PLACES: &[&str] = &[
    "the family home",
    "the school office",
    "the pastoral base",
    "the youth centre",
    "the library",
    "the community hub",
    "the sports hall",
    "the front reception",
    "the children's centre",
    "the flat on the estate",
    "the food bank",
    "the nurture room",
];
const PEOPLE: &[&str] = &[
    "mother",
    "father",
    "grandmother",
    "older sister",
    "foster carer",
    "head of year",
    "designated safeguarding lead",
    "school nurse",
    "social worker",
    "family support worker",
    "learning mentor",
    "youth worker",
    "aunt",
    "stepfather",
    "key worker",
];
const VERBS: &[&str] = &[
    "reported",
    "explained",
    "mentioned",
    "confirmed",
    "disclosed",
    "raised",
    "described",
    "noted",
    "said",
    "agreed",
    "asked about",
    "was worried about",
    "denied",
    "recalled",
];
const TOPICS: &[&str] = &[
    "missed meals over the weekend",
    "a dispute with a neighbour",
    "messages on a group chat",
    "a change in behaviour at school",
    "attendance dropping since half term",
    "an older male waiting near the gates",
    "a broken window that has not been repaired",
    "money going missing at home",
    "tiredness in morning lessons",
    "a new phone with no explanation",
    "being excluded from a friendship group",
    "arguments at home late at night",
    "a sibling's hospital appointment",
    "the electricity meter running out",
    "images shared without consent",
    "walking home alone after dark",
    "a knife seen in a bag",
    "no heating in the bedroom",
    "a referral to early help",
    "bruising that was explained",
    "being asked to carry a parcel",
    "anxiety before exams",
    "sleeping at a friend's house",
    "a cousin staying at the address",
    "worries about online gaming contacts",
];
const ACTIONS: &[&str] = &[
    "Advice given on staying safe online.",
    "Food parcel delivered and unpacked.",
    "Signposted to the school counsellor.",
    "Details passed to the MASH.",
    "Agreed to review at the next visit.",
    "Safety plan discussed with the carer.",
    "School informed through the DSL.",
    "Leaflet on exploitation left with the family.",
    "Will check attendance with the office on Monday.",
    "No further concerns at this time.",
    "Supervisor updated by phone.",
    "Arranged a joint visit with the social worker.",
];
const MOODS: &[&str] = &[
    "calm",
    "quiet",
    "tearful",
    "chatty",
    "withdrawn",
    "cheerful",
    "tired",
    "anxious",
    "settled",
    "guarded",
    "relaxed",
    "restless",
];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A narrative of about `len` characters built from varied sentences.
pub fn narrative(rng: &mut StdRng, len: usize) -> String {
    let mut out = String::with_capacity(len + 120);
    while out.len() < len {
        let sentence = match rng.random_range(0..4) {
            0 => format!(
                "{} {} at {:02}:{:02}. ",
                pick(rng, OPENERS),
                pick(rng, PLACES),
                rng.random_range(7..21),
                rng.random_range(0..60)
            ),
            1 => format!(
                "The {} {} {}. ",
                pick(rng, PEOPLE),
                pick(rng, VERBS),
                pick(rng, TOPICS)
            ),
            2 => format!(
                "Young person was {} and {} {}. ",
                pick(rng, MOODS),
                pick(rng, VERBS),
                pick(rng, TOPICS)
            ),
            _ => format!("{} ", pick(rng, ACTIONS)),
        };
        out.push_str(&sentence);
    }
    out.truncate(out.trim_end().len());
    out
}

/// The fields of a visit exactly as the core's `record_visit` sends them (one real mutation).
pub fn visit_template() -> Mutation {
    let fixture = Fixture::new();
    let person = fixture.young_person();
    fixture
        .book
        .record_visit(visit_draft(person, 3))
        .expect("record a visit");
    fixture
        .book
        .pending_changes()
        .expect("outbox")
        .into_iter()
        .rev()
        .find(|m| m.entity == pocketbook_protocol::Entity::Visit)
        .expect("a visit mutation")
}

/// Makes visit creates from `template` for an officer of a team, stamped by `node`, numbered
/// from `first_seq`, each serialising to about `bytes` of JSON fields.
pub struct VisitMaker {
    template: Mutation,
    rng: StdRng,
    officer: Uuid,
    team: Uuid,
    node: Uuid,
    millis: u64,
    seq: u64,
    bytes: usize,
    /// The young people visits are drawn from; empty: a new one for every visit.
    young_people: Vec<Uuid>,
}

impl VisitMaker {
    /// A maker for `officer` in `team`, on device `node`.
    pub fn new(template: Mutation, seed: u64, officer: Uuid, team: Uuid, node: Uuid) -> Self {
        VisitMaker {
            template,
            rng: StdRng::seed_from_u64(seed),
            officer,
            team,
            node,
            millis: pocketbook_protocol::unix_millis(Utc::now()),
            seq: 0,
            bytes: 600,
            young_people: Vec::new(),
        }
    }

    /// Draws each visit's young person at random from `count` of them, as a force's records
    /// are (many visits each), instead of a new one for every visit. A young person's id
    /// comes from the seeded generator, so it sorts nowhere in particular: a chronology link
    /// lands at a random place in its index, as it would on a real first sync. 0: a new one
    /// each time (ids in time order, every link appended).
    pub fn young_people(mut self, count: usize) -> Self {
        self.young_people = (0..count)
            .map(|_| uuid::Builder::from_random_bytes(self.rng.random()).into_uuid())
            .collect();
        self
    }

    /// Sets the JSON size of each visit's fields.
    pub fn bytes(mut self, bytes: usize) -> Self {
        self.bytes = bytes;
        self
    }

    /// The next visit create.
    pub fn next_visit(&mut self) -> Mutation {
        let mut m = self.template.clone();
        self.seq += 1;
        self.millis += 1;
        m.seq = self.seq;
        m.record_id = Uuid::now_v7();
        m.team_id = self.team;
        m.version = Version {
            hlc: Hlc {
                millis: self.millis,
                counter: 0,
            },
            node: self.node,
        };
        let start = Utc::now() - Duration::minutes(self.rng.random_range(60..60 * 24 * 90));
        let set = |m: &mut Mutation, k: &str, v: Value| {
            m.fields.insert(k.to_string(), v);
        };
        set(&mut m, "created_by", json!(self.officer));
        set(&mut m, "team_id", json!(self.team));
        set(&mut m, "officer_ids", json!([self.officer]));
        let child = match self.young_people.len() {
            0 => Uuid::now_v7(),
            n => self.young_people[self.rng.random_range(0..n)],
        };
        set(&mut m, "young_person_ids", json!([child]));
        set(&mut m, "start", json!(start));
        set(
            &mut m,
            "end",
            json!(start + Duration::minutes(self.rng.random_range(10..90))),
        );
        set(&mut m, "place", json!(pick(&mut self.rng, PLACES)));
        set(&mut m, "present", json!([pick(&mut self.rng, PEOPLE)]));
        set(&mut m, "narrative", json!(""));
        let others = serde_json::to_string(&m.fields)
            .map(|s| s.len())
            .unwrap_or(0);
        let len = self.bytes.saturating_sub(others).max(80);
        let text = narrative(&mut self.rng, len);
        set(&mut m, "narrative", json!(text));
        m
    }
}

/// Records an officer's shift offline on an enrolled device, through the public API: a young
/// person at the first establishment, three visits, a concern and an assembly (six mutations).
/// The shift both server benchmarks sync.
pub fn record_shift(book: &pocketbook_core::Pocketbook) {
    use pocketbook_core::model::{EngagementDraft, EngagementKind, EngagementTopic};
    let school = book.establishments().expect("establishments")[0].id;
    let mut person = crate::person_draft();
    person.establishment_id = Some(school);
    let child = book.add_young_person(person).expect("person").id;
    for hours in [7, 5, 2] {
        book.record_visit(visit_draft(child, hours)).expect("visit");
    }
    let mut concern = crate::concern_draft(child, 3);
    concern.assigned_lead = None;
    book.raise_concern(concern).expect("concern");
    book.record_engagement(EngagementDraft {
        kind: EngagementKind::Assembly,
        topics: vec![EngagementTopic::KnifeCrime],
        establishment_id: school,
        year_groups: vec![9, 10],
        audience_size: 180,
        at: Utc::now() - Duration::hours(4),
        sweep_result: None,
        concerns_arising: String::new(),
        marking: None,
    })
    .expect("engagement");
}

/// The `q` quantile (0..=1) of durations in seconds (sorts them).
pub fn quantile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    // The nearest rank; sample counts are far below 2^52, and q is within 0..=1.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// Waits for the system to write back every dirty page (`sync(1)`), so that what a build or a
/// seeding left to write does not land on the writes a benchmark times next.
///
/// # Panics
/// If `sync` cannot be run: a benchmark timed beside a writeback would mislead.
pub fn flush_writeback() {
    let flushed = std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success());
    assert!(flushed, "sync(1) flushes the system's dirty pages");
}

/// A process's peak resident set (VmHWM) in MB, from `/proc/<pid>/status` (`self` for this one).
pub fn peak_rss_mb(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds (user + system) this process has used so far.
pub fn cpu_seconds() -> f64 {
    process_cpu_seconds("self", false).unwrap_or(f64::NAN)
}

/// CPU seconds (user + system) process `pid` (or `self`) has used so far, with those of its
/// children it has reaped when `with_reaped` (so work done by processes that have exited is
/// still counted, at their parent). `None` when the process is gone.
pub fn process_cpu_seconds(pid: &str, with_reaped: bool) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the
    // 13th, cutime and cstime the 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let own = ticks(11) + ticks(12);
    let reaped = if with_reaped {
        ticks(13) + ticks(14)
    } else {
        0.0
    };
    Some((own + reaped) / 100.0)
}

/// CPU seconds used so far by every process whose command name is `comm` (e.g. `postgres`:
/// the database's own work), reaped children included so exited backends still count.
pub fn command_cpu_seconds(comm: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .filter_map(|pid| process_cpu_seconds(&pid, true))
        .sum()
}

/// The value after `--name` on this benchmark's command line.
pub fn bench_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The young people of `count` visits from a maker seeded with `seed`.
    fn children(seed: u64, pool: usize, count: usize) -> Vec<Value> {
        let mut maker = VisitMaker::new(
            visit_template(),
            seed,
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        )
        .young_people(pool);
        (0..count)
            .map(|_| maker.next_visit().fields["young_person_ids"][0].clone())
            .collect()
    }

    #[test]
    fn visits_drawn_from_a_pool_share_its_young_people_and_replay_by_seed() {
        let drawn = children(7, 3, 60);
        let distinct: BTreeSet<String> = drawn.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), 3, "every one of three drawn in 60 visits");
        assert_eq!(
            drawn,
            children(7, 3, 60),
            "the same seed, the same young people"
        );
        assert_ne!(drawn, children(8, 3, 60), "another seed, others");
    }

    #[test]
    fn without_a_pool_every_visit_has_a_young_person_of_its_own() {
        let drawn = children(7, 0, 60);
        let distinct: BTreeSet<String> = drawn.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), 60);
    }
}
