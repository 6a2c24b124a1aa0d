//! What the server keeps of a deleted record, and the admin's erasure (issue 11): a device's
//! delete leaves devices a tombstone while the content is kept here, unserved, until an admin
//! erases the record (`pocketbook-server erase RECORD_ID --reason TEXT`, any kind, concerns and
//! addenda included, leaving a minimal tombstone) or its review date passes
//! (`pocketbook-server purge-reviewed`). Runs inside the caller's transaction.

use std::future::Future;

use pocketbook_protocol::merge::{Conflict, RecordState, DELETED_FIELD, TOMBSTONE_FIELDS};
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::PullEntryKind;
use pocketbook_protocol::{Entity, Hlc, Version};
use serde_json::{json, Value};
use uuid::Uuid;

use super::clock::{now_ms, now_text};
use super::decode::{corrupt, counter};
use super::meta::audit;
use super::record_rows::{load_record, put_entry};
use super::sql::{args, Db};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;

/// A review date that never comes: content of a record without one is kept until erased.
const NEVER: &str = "9999-12-31";

/// Keeps the content a device's delete is about to drop (`stored`: the record before the
/// delete), unserved. A record already deleted keeps what it kept.
pub fn retain_deleted(
    db: &mut dyn Db,
    sources: &dyn Sources,
    record_id: Uuid,
    entity: &Entity,
    stored: &RecordState,
) -> Result<(), StoreError> {
    if stored.deleted {
        return Ok(());
    }
    let review_due = stored
        .fields
        .get("review_due")
        .and_then(Value::as_str)
        .unwrap_or(NEVER);
    db.execute(
        "INSERT INTO retained (record_id, entity, fields, versions, review_due, deleted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (record_id) DO NOTHING",
        args![
            record_id.to_string(),
            entity.as_str(),
            Value::Object(stored.fields.clone()).to_string(),
            serde_json::to_string(&stored.versions).map_err(corrupt("versions"))?,
            review_due,
            now_text(sources)
        ],
    )?;
    Ok(())
}

/// Erases a record as an admin, with the reason audited: its kept content, the values its
/// conflicts hold and its quarantined mutations are dropped, and the record becomes a minimal
/// tombstone every bucket of it is told about. False when the server holds no such record.
pub fn erase(
    db: &mut dyn Db,
    sources: &dyn Sources,
    id: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    db.serialize_writers()?;
    let Some(cur) = load_record(db, id)? else {
        return super::compact::erase_compacted(db, sources, id, reason);
    };
    let mut state = cur.state;
    let stamp = Version {
        hlc: Hlc {
            millis: counter(now_ms(sources)),
            counter: 0,
        },
        node: Uuid::nil(),
    };
    let deleted_at = state
        .versions
        .get(DELETED_FIELD)
        .map_or(stamp, |v| (*v).max(stamp));
    state.deleted = true;
    state
        .fields
        .retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
    state
        .versions
        .retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
    state.versions.insert(DELETED_FIELD.to_string(), deleted_at);
    let text = id.to_string();
    db.execute(
        "UPDATE records SET fields = ?2, versions = ?3, deleted = TRUE WHERE id = ?1",
        args![
            &text,
            Value::Object(state.fields).to_string(),
            serde_json::to_string(&state.versions).map_err(corrupt("versions"))?
        ],
    )?;
    db.execute("DELETE FROM retained WHERE record_id = ?1", args![&text])?;
    let conflicts = db.query(
        "SELECT id, data FROM conflicts WHERE record_id = ?1",
        args![&text],
    )?;
    let seq = db.next_seq()?;
    let facts = &cur.facts;
    let buckets =
        super::cascade::record_buckets(db, facts.team_id, facts.marking, facts.created_by)?;
    for row in conflicts {
        let conflict_id = row.text(0)?;
        let mut conflict: Conflict =
            serde_json::from_str(&row.text(1)?).map_err(corrupt("conflict"))?;
        conflict.losing_value = Value::Null;
        conflict.winning_value = Value::Null;
        db.execute(
            "UPDATE conflicts SET data = ?2, resolved = TRUE WHERE id = ?1",
            args![
                &conflict_id,
                serde_json::to_string(&conflict).map_err(corrupt("conflict"))?
            ],
        )?;
        for b in &buckets {
            put_entry(
                db,
                b,
                &conflict_id,
                PullEntryKind::Conflict,
                &facts.entity,
                seq,
            )?;
        }
    }
    db.execute(
        "DELETE FROM quarantine WHERE mutation LIKE ?1",
        args![format!("%\"record_id\":\"{text}\"%")],
    )?;
    for b in &buckets {
        put_entry(db, b, &text, PullEntryKind::Snapshot, &facts.entity, seq)?;
    }
    audit(
        db,
        sources,
        "erase_record",
        None,
        None,
        json!({ "entity": facts.entity, "record_id": id, "reason": reason }),
    )?;
    let action = crate::journal::Action::Erase {
        record_id: id,
        entity: facts.entity.as_str().to_string(),
        team_id: facts.team_id,
        marking: facts.marking.as_str().to_string(),
        created_by: facts.created_by,
        reason: reason.to_string(),
    };
    crate::journal::record(db, sources, action)?;
    Ok(true)
}

/// Drops the kept content of deleted records whose review date has passed; returns how many.
pub fn purge_reviewed(db: &mut dyn Db, sources: &dyn Sources) -> Result<Vec<Uuid>, StoreError> {
    let today = sources.now().date_naive().to_string();
    let due: Vec<Uuid> = db
        .query(
            "SELECT record_id FROM retained WHERE review_due < ?1 ORDER BY record_id",
            args![&today],
        )?
        .iter()
        .map(|row| super::decode::parse_id(&row.text(0)?))
        .collect::<Result<_, _>>()?;
    db.execute("DELETE FROM retained WHERE review_due < ?1", args![&today])?;
    if !due.is_empty() {
        audit(
            db,
            sources,
            "purge_reviewed",
            None,
            None,
            json!({ "record_ids": due }),
        )?;
        let action = crate::journal::Action::PurgeReviewed {
            record_ids: due.clone(),
        };
        crate::journal::record(db, sources, action)?;
    }
    Ok(due)
}

/// The erasure commands over a store (beside [`super::Store`], so the trait stays as it is).
pub trait RecordErasure {
    /// Erases a record with a reason; false when there is no such record.
    fn erase_record(
        &self,
        id: Uuid,
        reason: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Drops the kept content of deleted records past their review date; their ids.
    fn purge_reviewed(&self) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

impl<B: Backend> RecordErasure for SqlStore<B> {
    async fn erase_record(&self, id: Uuid, reason: String) -> Result<bool, StoreError> {
        self.run(move |db, sources| erase(db, sources, id, &reason))
            .await
    }

    async fn purge_reviewed(&self) -> Result<Vec<Uuid>, StoreError> {
        self.run(purge_reviewed).await
    }
}
