//! The server's epoch (issue 12, after a restore from a backup): `new-epoch` draws a new one,
//! invalidates every enrolment code not yet used (codes issued before the backup must not
//! work), sets `restore_pending` (the admin journal's gate reads and clears it) and lets every
//! device reconcile once: restore mutations are taken from it until its first push without
//! one (`reconciling:<device>` in `meta`), and its first push may start above its high-water
//! mark (`seq_gap:<device>`), since the restored server forgot what it had acknowledged.
//! Requests naming another epoch are refused with `409 epoch_changed`, carrying what the server
//! holds of the device. Runs inside the caller's transaction.

use std::future::Future;

use chrono::SecondsFormat;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{AckedPosition, PushRequest};
use pocketbook_protocol::MutationKind;
use serde_json::json;
use uuid::Uuid;

use super::clock::now_ms;
use super::decode::counter;
use super::meta::{audit, meta};
use super::restore_places;
use super::sql::{args, Db};
use super::sql_store::{Backend, SqlStore};
use crate::error::{PushRefusal, StoreError};

/// The `meta` key holding when the last new epoch opened its restore window (Unix ms).
const WINDOW_OPENED: &str = "restore_window_opened_ms";

/// When the last new epoch opened its restore window (Unix ms): no version a device
/// acknowledged before the restore lies past it by more than the clock skew allowed. `None`
/// for a store given its epoch by an older server.
pub fn window_opened(db: &mut dyn Db) -> Result<Option<u64>, StoreError> {
    Ok(db
        .query_opt(
            "SELECT value FROM meta WHERE key = ?1",
            args![WINDOW_OPENED],
        )?
        .map(|row| row.text(0))
        .transpose()?
        .and_then(|v| v.parse().ok()))
}

/// The `meta` key marking a device that may send restore mutations.
fn reconciling_key(device_id: Uuid) -> String {
    format!("reconciling:{device_id}")
}

/// The `meta` key marking a device whose next push may skip sequence numbers.
fn gap_key(device_id: Uuid) -> String {
    format!("seq_gap:{device_id}")
}

/// Lets `device_id` reconcile in `epoch`: send restore mutations, and start its first push
/// above its high-water mark once. Every live device at a new epoch; a device the admin
/// journal re-enrols while a restore is pending (enrolled after the backup), too.
pub fn mark_reconciling(db: &mut dyn Db, device_id: Uuid, epoch: &str) -> Result<(), StoreError> {
    let upsert = "INSERT INTO meta (key, value) VALUES (?1, ?2)
                  ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    db.execute(upsert, args![reconciling_key(device_id), epoch])?;
    db.execute(upsert, args![gap_key(device_id), epoch])?;
    Ok(())
}

/// Gives the store a new epoch (see the module doc); returns it. Audited as `new_epoch`.
pub fn new_epoch(db: &mut dyn Db, sources: &dyn Sources) -> Result<String, StoreError> {
    db.serialize_writers()?;
    let epoch = sources.new_id().to_string();
    let upsert = "INSERT INTO meta (key, value) VALUES (?1, ?2)
                  ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    db.execute(upsert, args!["epoch", epoch.as_str()])?;
    let at = sources.now().to_rfc3339_opts(SecondsFormat::Secs, true);
    db.execute(upsert, args!["restore_pending", at.as_str()])?;
    let opened = now_ms(sources).to_string();
    db.execute(upsert, args![WINDOW_OPENED, opened.as_str()])?;
    restore_places::clear(db)?;
    let codes = db.execute("DELETE FROM enrol_codes WHERE used_at IS NULL", &[])?;
    db.execute(
        "DELETE FROM meta WHERE key LIKE 'reconciling:%' OR key LIKE 'seq_gap:%'",
        &[],
    )?;
    let devices: Vec<String> = db
        .query(
            "SELECT device_id FROM devices WHERE revoked_at IS NULL",
            &[],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    for id in &devices {
        let id = Uuid::parse_str(id).map_err(|_| StoreError::Corrupt("device id"))?;
        mark_reconciling(db, id, &epoch)?;
    }
    // Each officer's teams at the backup, to which the journal's moves are added.
    db.execute("DELETE FROM restore_teams", &[])?;
    let officers: Vec<String> = db
        .query("SELECT data FROM officers", &[])?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    for data in officers {
        let officer: pocketbook_protocol::Officer =
            serde_json::from_str(&data).map_err(|_| StoreError::Corrupt("officer"))?;
        note_teams(db, officer.id, &officer.team_ids)?;
    }
    audit(
        db,
        sources,
        "new_epoch",
        None,
        None,
        json!({ "epoch": epoch, "codes_invalidated": codes, "devices": devices.len() }),
    )?;
    Ok(epoch)
}

/// What the server holds of a device: its high-water mark, audit seq and audit head.
pub fn position(db: &mut dyn Db, device_id: Uuid) -> Result<AckedPosition, StoreError> {
    let row = db.query_one(
        "SELECT high_water, audit_seq, audit_head FROM devices WHERE device_id = ?1",
        args![device_id.to_string()],
    )?;
    Ok(AckedPosition {
        seq: counter(row.int(0)?),
        audit_seq: counter(row.int(1)?),
        audit_head: row.text(2)?,
    })
}

/// The answer of an epoch check: a refusal when the epoch named is not the server's.
pub type EpochCheck = Result<Option<PushRefusal>, StoreError>;

/// `409 epoch_changed` when a request names an epoch (`Some`) other than the server's.
pub fn refusal(db: &mut dyn Db, device_id: Uuid, named: Option<&str>) -> EpochCheck {
    let Some(named) = named else {
        return Ok(None);
    };
    let epoch = meta(db, "epoch")?;
    if named == epoch {
        return Ok(None);
    }
    Ok(Some(PushRefusal::EpochChanged {
        epoch,
        position: position(db, device_id)?,
    }))
}

/// Notes that `officer` belongs to `teams` (added or moved): what it could see since the last
/// restore's backup.
pub fn note_teams(db: &mut dyn Db, officer: Uuid, teams: &[Uuid]) -> Result<(), StoreError> {
    for team in teams {
        db.execute(
            "INSERT INTO restore_teams (officer_id, team_id) VALUES (?1, ?2)
             ON CONFLICT (officer_id, team_id) DO NOTHING",
            args![officer.to_string(), team.to_string()],
        )?;
    }
    Ok(())
}

/// The teams `officer` belonged to at the last restore's backup and since.
pub fn teams_since_backup(db: &mut dyn Db, officer: Uuid) -> Result<Vec<Uuid>, StoreError> {
    db.query(
        "SELECT team_id FROM restore_teams WHERE officer_id = ?1 ORDER BY team_id",
        args![officer.to_string()],
    )?
    .iter()
    .map(|row| Uuid::parse_str(&row.text(0)?).map_err(|_| StoreError::Corrupt("restore team")))
    .collect()
}

/// Whether the device may send restore mutations (it has not yet ended its reconciliation).
pub fn reconciling(db: &mut dyn Db, device_id: Uuid) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM meta WHERE key = ?1",
            args![reconciling_key(device_id)],
        )?
        .is_some())
}

/// Whether any device may still send restore mutations (the restore window is open).
pub fn anyone_reconciling(db: &mut dyn Db) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM meta WHERE key LIKE 'reconciling:%' LIMIT 1",
            &[],
        )?
        .is_some())
}

/// Ends the device's reconciliation (its first push without a restore mutation).
pub fn end_reconciling(db: &mut dyn Db, device_id: Uuid) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM meta WHERE key = ?1",
        args![reconciling_key(device_id)],
    )?;
    Ok(())
}

/// Whether the device's next push may skip sequence numbers (its first of the epoch).
pub fn seq_gap_allowed(db: &mut dyn Db, device_id: Uuid) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM meta WHERE key = ?1",
            args![gap_key(device_id)],
        )?
        .is_some())
}

/// After a push that lands: one carrying new mutations used the epoch's one allowance to skip
/// sequence numbers; one without a restore mutation or a refusal sent again ends the device's
/// reconciliation.
pub fn after_push(
    db: &mut dyn Db,
    device_id: Uuid,
    request: &PushRequest,
    carried_new: bool,
) -> Result<(), StoreError> {
    if carried_new {
        db.execute("DELETE FROM meta WHERE key = ?1", args![gap_key(device_id)])?;
    }
    let restoring = request
        .mutations
        .iter()
        .any(|m| m.kind == MutationKind::Restore)
        || !request.refused.is_empty();
    if !restoring {
        end_reconciling(db, device_id)?;
    }
    Ok(())
}

/// The epoch commands and checks over a store (beside [`super::Store`]).
pub trait Epochs {
    /// Gives the store a new epoch (see [`new_epoch`]); returns it.
    fn new_epoch(&self) -> impl Future<Output = Result<String, StoreError>> + Send;
}

impl<B: Backend> Epochs for SqlStore<B> {
    async fn new_epoch(&self) -> Result<String, StoreError> {
        self.run(new_epoch).await
    }
}
