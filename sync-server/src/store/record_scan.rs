//! `validate-store`: every stored record decoded and checked with the model, as pushes are now,
//! so poison stored before the guard existed is cleaned. A record the model refuses is
//! quarantined (kept whole for admins, under the server's own id as the device), taken out of
//! the records served, and given a `remove` entry at a new change number in every bucket that
//! held it, so devices drop it. Reports counts only. Runs inside the caller's transaction.

use pocketbook_protocol::wire::PullEntryKind;
use pocketbook_protocol::Entity;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use pocketbook_protocol::sources::Sources;

use super::clock::now_text;
use super::decode::{corrupt, parse_id};
use super::meta::{audit, meta};
use super::record_guard::guard_now;
use super::record_rows::put_entry;
use super::sql::{args, Db};
use super::StoreCheck;
use crate::error::StoreError;
use crate::validate::check_record;

/// Records read at a time.
const PAGE: i64 = 500;

/// Checks every live record; quarantines and removes each one the model refuses.
pub fn validate_store(db: &mut dyn Db, sources: &dyn Sources) -> Result<StoreCheck, StoreError> {
    db.serialize_writers()?;
    let server_id = meta(db, "server_id")?;
    let now = guard_now(sources);
    let mut report = StoreCheck::default();
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT id, entity, fields, versions FROM records
             WHERE deleted = FALSE AND id > ?1 ORDER BY id LIMIT ?2",
            args![&after, PAGE],
        )?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let (id, entity, fields, versions) =
                (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
            after.clone_from(&id);
            report.checked += 1;
            let record_id = parse_id(&id)?;
            let entity = Entity::from_wire(&entity);
            let code = match serde_json::from_str::<Map<String, Value>>(&fields) {
                Err(_) => Some("invalid_record".to_string()),
                Ok(map) => refusal(db, &entity, record_id, &map, now)?,
            };
            let Some(code) = code else {
                continue;
            };
            report.quarantined += 1;
            let kept = json!({
                "entity": entity,
                "record_id": record_id,
                "fields": fields,
                "versions": versions,
                "found_by": "validate_store",
            });
            db.execute(
                "INSERT INTO quarantine (at, device_id, seq, code, mutation)
                 VALUES (?1, ?2, 0, ?3, ?4)",
                args![
                    now_text(sources),
                    &server_id,
                    &code,
                    serde_json::to_string(&kept).map_err(corrupt("record"))?
                ],
            )?;
            let buckets: Vec<String> = db
                .query(
                    "SELECT bucket FROM bucket_entries WHERE item = ?1 AND kind = 'snapshot'",
                    args![&id],
                )?
                .iter()
                .map(|row| row.text(0))
                .collect::<Result<_, _>>()?;
            let seq = db.next_seq()?;
            for b in &buckets {
                put_entry(db, b, &id, PullEntryKind::Remove, &entity, seq)?;
            }
            db.execute("DELETE FROM records WHERE id = ?1", args![&id])?;
        }
    }
    audit(
        db,
        sources,
        "validate_store",
        None,
        None,
        json!({ "checked": report.checked, "quarantined": report.quarantined }),
    )?;
    Ok(report)
}

/// The refusal code for a stored record, if the model (or the establishments) refuse it.
fn refusal(
    db: &mut dyn Db,
    entity: &Entity,
    id: Uuid,
    fields: &Map<String, Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, StoreError> {
    match check_record(entity, id, fields, now) {
        Err(fault) => Ok(Some(fault.code.as_str().to_string())),
        Ok(checked) => {
            for e in checked.establishments {
                let held = db
                    .query_opt(
                        "SELECT 1 FROM establishments WHERE id = ?1",
                        args![e.to_string()],
                    )?
                    .is_some();
                if !held {
                    return Ok(Some("invalid_record".to_string()));
                }
            }
            Ok(None)
        }
    }
}
