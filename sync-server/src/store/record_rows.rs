//! The record rows and bucket entries that pushes, pulls and conflict resolutions share:
//! loading a stored record with its routing facts, and writing the entry that tells a bucket
//! an item changed. Runs inside the caller's transaction.

use pocketbook_protocol::merge::RecordState;
use pocketbook_protocol::wire::PullEntryKind;
use pocketbook_protocol::Entity;
use uuid::Uuid;

use super::decode::{corrupt, parse_id};
use super::sql::{args, Db};
use crate::error::StoreError;
use crate::policy::CurrentFacts;

/// A stored record's routing facts and state.
pub struct Current {
    /// Its kind, team, marking and author.
    pub facts: CurrentFacts,
    /// Its fields, versions and deletion.
    pub state: RecordState,
}

/// One record as stored.
pub fn load_record(db: &mut dyn Db, id: Uuid) -> Result<Option<Current>, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT entity, team_id, marking, created_by, fields, versions, deleted
         FROM records WHERE id = ?1",
        args![id.to_string()],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Current {
        facts: CurrentFacts {
            entity: Entity::from_wire(&row.text(0)?),
            team_id: parse_id(&row.text(1)?)?,
            marking: row
                .text(2)?
                .parse()
                .map_err(|_| StoreError::Corrupt("marking"))?,
            created_by: parse_id(&row.text(3)?)?,
        },
        state: RecordState {
            fields: serde_json::from_str(&row.text(4)?).map_err(corrupt("record"))?,
            versions: serde_json::from_str(&row.text(5)?).map_err(corrupt("versions"))?,
            deleted: row.bool(6)?,
        },
    }))
}

/// Records in `bucket` that `item` (a record or conflict id) changed at change number `seq`,
/// replacing the bucket's earlier entry for it.
pub fn put_entry(
    db: &mut dyn Db,
    bucket: &str,
    item: &str,
    kind: PullEntryKind,
    entity: &Entity,
    seq: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO bucket_entries (bucket, item, kind, entity, seq) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (bucket, item) DO UPDATE SET kind = excluded.kind, seq = excluded.seq",
        args![bucket, item, kind.as_str(), entity.as_str(), seq],
    )?;
    Ok(())
}

/// Whether a live record other than the young person's own names them (a visit's, concern's
/// or addendum's `young_person_ids`, an action's `young_person_id`): such a young person is
/// not deleted. The text match narrows the scan; the fields decide.
pub fn young_person_in_use(db: &mut dyn Db, id: Uuid) -> Result<bool, StoreError> {
    let text = id.to_string();
    let rows = db.query(
        "SELECT fields FROM records WHERE deleted = FALSE AND id <> ?1 AND fields LIKE ?2",
        args![&text, format!("%{text}%")],
    )?;
    for row in rows {
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.text(0)?).map_err(corrupt("record"))?;
        let named = |v: &serde_json::Value| v.as_str() == Some(text.as_str());
        let in_list = fields
            .get("young_person_ids")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|ids| ids.iter().any(named));
        if in_list || fields.get("young_person_id").is_some_and(named) {
            return Ok(true);
        }
    }
    Ok(false)
}
