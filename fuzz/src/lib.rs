//! The bodies of Pocketbook's fuzz targets, one function per target, each fed raw bytes. They
//! are compiled twice: by `cargo fuzz` (nightly, `fuzz_targets/*.rs`) and by the stable test
//! `tests/tests/fuzz_corpora.rs`, which replays every committed corpus entry — so a crash
//! the fuzzer once found stays fixed. A target fails by panicking; it never panics on input
//! that is merely malformed, only when the code under test breaks one of its promises.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pocketbook_core::model::{ConcernFilter, VisitFilter};
use pocketbook_core::transport::{NoAnswer, Sending, Transport, WireRequest, WireResponse};
use pocketbook_core::{OpenConfig, Pocketbook, StoreKey};
use pocketbook_protocol::merge::{conflict_id, merge, RecordState, TOMBSTONE_FIELDS};
use pocketbook_protocol::wire::PushRequest;
use pocketbook_protocol::{Mutation, MutationKind};
use pocketbook_sync_server::guard::body::{decode, inflate, Encoding};
use pocketbook_sync_server::validate::{check_record, judge_fields, push_body_refusal};
use serde::Deserialize;
use uuid::Uuid;

/// A fixed "now" for the record rules, so a corpus entry always meets the same rules.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

/// Decoding and validating a push body as the server does: the first byte picks the content
/// encoding (identity, gzip or zstd), the rest is the body. Promises checked: inflating and
/// decoding never panic and stay within the body limit; what decodes re-encodes and decodes
/// back to the same request (the server stores and digests what it decoded); the body rules
/// and every record rule judge every mutation without panicking.
pub fn push_body(data: &[u8]) {
    let Some((&selector, raw)) = data.split_first() else {
        return;
    };
    let encoding = match selector % 3 {
        0 => Encoding::Identity,
        1 => Encoding::Gzip,
        _ => Encoding::Zstd,
    };
    let Ok(bytes) = inflate(encoding, raw) else {
        return;
    };
    assert!(bytes.len() <= pocketbook_protocol::limits::MAX_BODY_BYTES);
    let Ok(request) = decode::<PushRequest>(&bytes) else {
        return;
    };
    let again = serde_json::to_vec(&request).expect("a decoded push encodes again");
    let back: PushRequest =
        serde_json::from_slice(&again).expect("a push the server encoded decodes");
    assert_eq!(
        back, request,
        "a push changed on its way through the server"
    );
    if push_body_refusal(&request).is_some() {
        return;
    }
    for m in &request.mutations {
        let _ = judge_fields(m, None, now());
        let merged = merge(None, m);
        let _ = check_record(&m.entity, m.record_id, &merged.state.fields, now());
    }
}

/// A stored record and the mutations merged into it, in order.
#[derive(Deserialize)]
struct MergeCase {
    stored: Option<RecordState>,
    mutations: Vec<Mutation>,
}

/// The merge rules (JSON `{stored, mutations}`). Promises checked: the merge is a function of
/// its inputs; a tombstone stays a tombstone, and keeps only the tombstone fields; fields a
/// mutation does not name are untouched; a field's version never goes down; each conflict is
/// named by its record, field and losing version and belongs to the merged record; the field
/// a conflict is about holds the winning value.
pub fn merge_rules(data: &[u8]) {
    let Ok(case) = serde_json::from_slice::<MergeCase>(data) else {
        return;
    };
    let mut state = case.stored;
    for m in case.mutations.iter().take(64) {
        let once = merge(state.as_ref(), m);
        assert_eq!(
            once,
            merge(state.as_ref(), m),
            "the merge is not a function"
        );
        let before = state.clone().unwrap_or_default();
        if before.deleted || m.kind == MutationKind::Delete {
            assert!(once.state.deleted, "a tombstone came back");
            assert!(
                once.state.fields.keys().all(
                    |k| TOMBSTONE_FIELDS.contains(&k.as_str()) || before.fields.contains_key(k)
                ),
                "a tombstone gained fields"
            );
        } else {
            for (field, version) in &before.versions {
                if let Some(after) = once.state.versions.get(field) {
                    assert!(after >= version, "a field's version went down");
                }
            }
            for (field, value) in &before.fields {
                if !m.fields.contains_key(field) {
                    assert_eq!(
                        once.state.fields.get(field),
                        Some(value),
                        "a field the mutation does not name changed"
                    );
                }
            }
        }
        for c in &once.conflicts {
            assert_eq!(c.record_id, m.record_id, "a conflict on another record");
            assert_eq!(
                c.id,
                conflict_id(c.record_id, &c.field, c.losing_version),
                "a conflict's id does not name its loss"
            );
        }
        for c in &once.conflicts {
            assert_eq!(
                once.state.fields.get(&c.field),
                Some(&c.winning_value),
                "the record does not hold the value that won"
            );
        }
        state = Some(once.state);
    }
}

/// A server that answers an enrolment and a push as a real one would, and the first pull with
/// the bytes under test (later pulls: a 503, so the sync ends).
struct PageServer {
    page: Vec<u8>,
    pulls: AtomicU32,
}

const ENROL_ANSWER: &str = include_str!("../../protocol/tests/golden/enroll_response.json");

impl Transport for PageServer {
    fn send(&self, request: WireRequest) -> Sending<'_> {
        let json = |status: u16, body: Vec<u8>| WireResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        };
        let answer = match request.path.as_str() {
            "/v1/enroll" => json(200, ENROL_ANSWER.as_bytes().to_vec()),
            "/v1/sync/push" => json(
                200,
                br#"{"results":[],"acked_seq":0,"audit_acked_seq":0,"resolved":[],"server_time_ms":1764494000000}"#
                    .to_vec(),
            ),
            "/v1/sync/pull" if self.pulls.fetch_add(1, Ordering::SeqCst) == 0 => {
                json(200, self.page.clone())
            }
            _ => json(503, br#"{"code":"unavailable","message":"x"}"#.to_vec()),
        };
        Box::pin(async move { Ok::<_, NoAnswer>(answer) })
    }
}

/// Decoding and applying a pull page to a scratch encrypted store, through the core's own
/// client (its decoding, planners and store). Promises checked: whatever the page holds, the
/// sync ends with an answer or a typed error, never a panic, and the store stays whole:
/// it lists its records, its conflicts and its sync status, its audit chain verifies, and each
/// record of the page it kept reads back by its id.
pub fn pull_page(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let config = OpenConfig {
        db_path: dir.path().join("fuzz.db"),
        key: StoreKey::from_bytes(&[7; 32]).expect("a 32-byte key"),
        device_name: "fuzz".into(),
    };
    let mut book = Pocketbook::open(config).expect("a scratch store opens");
    book.set_transport(Arc::new(PageServer {
        page: data.to_vec(),
        pulls: AtomicU32::new(0),
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime
        .block_on(book.enroll("http://127.0.0.1:9", "fuzz-code"))
        .expect("the canned enrolment is taken");
    let _ = runtime.block_on(book.sync());
    book.visits(&VisitFilter::default())
        .expect("the store lists its visits after any page");
    book.concerns(&ConcernFilter::default())
        .expect("the store lists its concerns after any page");
    book.conflicts().expect("the store lists its conflicts");
    book.sync_status()
        .expect("the store says where sync stands");
    book.verify_audit_chain()
        .expect("the audit chain verifies after any page");
    // Every record of the page the store kept reads back by its id, through the map every
    // later edit, reconciliation and fork reads a stored row as: a snapshot is refused, held
    // raw or stored readable — never stored as text a later read refuses.
    for (entity, id) in snapshots_in(data) {
        let read = match entity.as_str() {
            "visit" => book.visit(id).map(drop),
            "concern" => book.concern(id).map(drop),
            "young_person" => book.young_person(id).map(drop),
            _ => Ok(()),
        };
        assert!(
            !matches!(read, Err(pocketbook_core::Error::Corrupt { .. })),
            "a {entity} the store kept does not read back"
        );
    }
}

/// The kind and id of each snapshot `data` names, if it is a page whose entries are objects
/// (read past every other member unchecked: a number out of range, say, must not hide them).
fn snapshots_in(data: &[u8]) -> Vec<(String, Uuid)> {
    #[derive(Deserialize)]
    struct Page {
        #[serde(default)]
        entries: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "type")]
        kind: Option<String>,
        entity: Option<String>,
        id: Option<String>,
    }
    let Ok(page) = serde_json::from_slice::<Page>(data) else {
        return Vec::new();
    };
    page.entries
        .into_iter()
        .filter(|e| e.kind.as_deref() == Some("snapshot"))
        .filter_map(|e| Some((e.entity?, Uuid::parse_str(&e.id?).ok()?)))
        .collect()
}
