//! [`SqlStore`]: the one implementation of [`Store`], generic over a [`Backend`] that opens
//! transactions. Every operation runs on tokio's blocking pool inside one transaction, so it
//! lands whole or not at all; the backend may run an operation again after a transient
//! failure (PostgreSQL's deadlock or serialization errors), so operations are written to be
//! repeatable.

use std::sync::Arc;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::wire::{PullRequest, PullResponse, PushRequest, PushResponse};
use pocketbook_protocol::{Establishment, Officer, Role, Team, GENESIS_HASH};
use serde_json::{json, Value};
use uuid::Uuid;

use super::records;
use super::shared::{
    all_json, audit, corrupt, meta, now_ms, now_text, officer, parse_id, provisioning_for, team_ids,
};
use super::sql::{args, Db};
use super::{Device, DeviceInfo, Enrolment, QuarantineEntry, Store, TokenCheck};
use crate::error::StoreError;

/// Enrolment attempts allowed per client per minute, unless set otherwise.
pub const ENROL_ATTEMPTS_PER_MINUTE: i64 = 10;

/// A database that runs a closure inside one transaction.
pub trait Backend: Send + Sync + 'static {
    /// Runs `f` in a new transaction and commits what it did if it returns `Ok`; rolls back
    /// otherwise. Blocks: call it from the blocking pool.
    fn transaction<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
}

/// The server's store over a SQL backend.
pub struct SqlStore<B> {
    backend: Arc<B>,
    enrol_limit: i64,
}

impl<B> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        SqlStore {
            backend: self.backend.clone(),
            enrol_limit: self.enrol_limit,
        }
    }
}

impl<B: Backend> SqlStore<B> {
    /// Wraps an opened, migrated backend.
    pub fn new(backend: B) -> Self {
        SqlStore {
            backend: Arc::new(backend),
            enrol_limit: ENROL_ATTEMPTS_PER_MINUTE,
        }
    }

    /// Allows `per_minute` enrolment attempts per client address (default
    /// [`ENROL_ATTEMPTS_PER_MINUTE`]); a rehearsal enrolling a whole force from one address
    /// raises it.
    pub fn with_enrol_limit(mut self, per_minute: u32) -> Self {
        self.enrol_limit = i64::from(per_minute.max(1));
        self
    }

    async fn run<T: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut dyn Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || backend.transaction(&mut f))
            .await
            .map_err(|_| StoreError::Task)?
    }
}

impl<B: Backend> Store for SqlStore<B> {
    async fn identity(&self) -> Result<(Uuid, String), StoreError> {
        self.run(|db| Ok((parse_id(&meta(db, "server_id")?)?, meta(db, "epoch")?)))
            .await
    }

    async fn enroll(
        &self,
        code_hash: String,
        device_id: Uuid,
        device_name: String,
        token_hash: String,
        client: String,
    ) -> Result<Enrolment, StoreError> {
        // The rate limit must count even failed attempts, so it commits on its own first. It
        // lives in the database, so every server process sharing it counts the same attempts.
        let limit = self.enrol_limit;
        let limited = self
            .run(move |db| {
                let now = now_ms();
                db.execute(
                    "DELETE FROM enrol_attempts WHERE at < ?1",
                    args![now - 60_000],
                )?;
                let recent = db
                    .query_one(
                        "SELECT count(*) FROM enrol_attempts WHERE client = ?1",
                        args![&client],
                    )?
                    .int(0)?;
                db.execute(
                    "INSERT INTO enrol_attempts (client, at) VALUES (?1, ?2)",
                    args![&client, now],
                )?;
                Ok(recent >= limit)
            })
            .await?;
        if limited {
            return Ok(Enrolment::RateLimited);
        }
        self.run(move |db| {
            let row = db.query_opt(
                "SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = ?1",
                args![&code_hash],
            )?;
            let live = match &row {
                Some(r) => r.opt_int(2)?.is_none() && r.int(1)? > now_ms(),
                None => false,
            };
            let Some(row) = row.filter(|_| live) else {
                audit(db, "enrol_refused", None, Some(device_id), json!({}))?;
                return Ok(Enrolment::BadCode);
            };
            let officer_id = parse_id(&row.text(0)?)?;
            let Some(me) = officer(db, officer_id)? else {
                return Ok(Enrolment::BadCode);
            };
            // Only an unused code is taken, so two servers racing on one code enrol one device.
            let taken = db.execute(
                "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
                args![&code_hash, now_ms()],
            )?;
            if taken == 0 {
                return Ok(Enrolment::BadCode);
            }
            db.execute(
                "INSERT INTO devices (device_id, officer_id, name, token_hash, enrolled_at, audit_head)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (device_id) DO UPDATE SET officer_id = excluded.officer_id,
                     name = excluded.name, token_hash = excluded.token_hash,
                     enrolled_at = excluded.enrolled_at",
                args![
                    device_id.to_string(),
                    officer_id.to_string(),
                    &device_name,
                    &token_hash,
                    now_text(),
                    GENESIS_HASH
                ],
            )?;
            audit(db, "enrol", Some(officer_id), Some(device_id), json!({}))?;
            Ok(Enrolment::Enrolled(provisioning_for(db, &me)?))
        })
        .await
    }

    async fn check_token(&self, token_hash: String) -> Result<TokenCheck, StoreError> {
        self.run(move |db| {
            let Some(row) = db.query_opt(
                "SELECT device_id, officer_id, revoked_at FROM devices WHERE token_hash = ?1",
                args![&token_hash],
            )?
            else {
                return Ok(TokenCheck::Unknown);
            };
            if row.opt_text(2)?.is_some() {
                return Ok(TokenCheck::Revoked);
            }
            let Some(officer) = officer(db, parse_id(&row.text(1)?)?)? else {
                return Ok(TokenCheck::Unknown);
            };
            Ok(TokenCheck::Valid(Device {
                device_id: parse_id(&row.text(0)?)?,
                officer,
            }))
        })
        .await
    }

    async fn push(
        &self,
        device: Device,
        request: PushRequest,
    ) -> Result<Result<PushResponse, String>, StoreError> {
        self.run(move |db| records::push(db, &device, &request))
            .await
    }

    async fn pull(&self, device: Device, request: PullRequest) -> Result<PullResponse, StoreError> {
        self.run(move |db| records::pull(db, &device, &request))
            .await
    }

    async fn add_team(&self, name: String) -> Result<Team, StoreError> {
        self.run(move |db| {
            let taken = db
                .query_opt("SELECT id FROM teams WHERE name = ?1", args![&name])?
                .is_some();
            if taken {
                return Err(StoreError::Invalid("a team with that name exists".into()));
            }
            let team = Team {
                id: Uuid::now_v7(),
                name: name.clone(),
            };
            db.execute(
                "INSERT INTO teams (id, name) VALUES (?1, ?2)",
                args![team.id.to_string(), &team.name],
            )?;
            audit(
                db,
                "admin_add_team",
                None,
                None,
                json!({ "team_id": team.id }),
            )?;
            Ok(team)
        })
        .await
    }

    async fn teams(&self) -> Result<Vec<Team>, StoreError> {
        self.run(|db| super::shared::teams(db)).await
    }

    async fn add_officer(
        &self,
        name: String,
        shoulder_number: String,
        role: Role,
        team_ids: Vec<Uuid>,
    ) -> Result<Officer, StoreError> {
        self.run(move |db| {
            let known = self::team_ids(db)?;
            if team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let o = Officer {
                id: Uuid::now_v7(),
                name: name.clone(),
                shoulder_number: shoulder_number.clone(),
                role,
                team_ids: team_ids.clone(),
            };
            db.execute(
                "INSERT INTO officers (id, data) VALUES (?1, ?2)",
                args![
                    o.id.to_string(),
                    serde_json::to_string(&o).map_err(corrupt("officer"))?
                ],
            )?;
            audit(
                db,
                "admin_add_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            Ok(o)
        })
        .await
    }

    async fn update_officer(&self, o: Officer) -> Result<(), StoreError> {
        self.run(move |db| {
            let known = self::team_ids(db)?;
            if o.team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let n = db.execute(
                "UPDATE officers SET data = ?2 WHERE id = ?1",
                args![
                    o.id.to_string(),
                    serde_json::to_string(&o).map_err(corrupt("officer"))?
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid("unknown officer".into()));
            }
            audit(
                db,
                "admin_update_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            Ok(())
        })
        .await
    }

    async fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        self.run(|db| all_json(db, "SELECT data FROM officers ORDER BY id", "officer"))
            .await
    }

    async fn put_establishments(
        &self,
        list: Vec<Establishment>,
    ) -> Result<(usize, usize), StoreError> {
        self.run(move |db| {
            let (mut added, mut updated) = (0, 0);
            for e in &list {
                let mut e = e.clone();
                let existing = db.query_opt(
                    "SELECT id FROM establishments WHERE urn = ?1",
                    args![&e.urn],
                )?;
                match existing {
                    Some(row) => {
                        e.id = parse_id(&row.text(0)?)?;
                        updated += 1;
                    }
                    None => added += 1,
                }
                db.execute(
                    "INSERT INTO establishments (urn, id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT (urn) DO UPDATE SET data = excluded.data",
                    args![
                        &e.urn,
                        e.id.to_string(),
                        serde_json::to_string(&e).map_err(corrupt("establishment"))?
                    ],
                )?;
            }
            audit(
                db,
                "admin_put_establishments",
                None,
                None,
                json!({ "added": added, "updated": updated }),
            )?;
            Ok((added, updated))
        })
        .await
    }

    async fn establishments(&self) -> Result<Vec<Establishment>, StoreError> {
        self.run(|db| {
            all_json(
                db,
                "SELECT data FROM establishments ORDER BY urn",
                "establishment",
            )
        })
        .await
    }

    async fn add_code(
        &self,
        officer_id: Uuid,
        code_hash: String,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        self.run(move |db| {
            if officer(db, officer_id)?.is_none() {
                return Err(StoreError::Invalid("unknown officer".into()));
            }
            db.execute(
                "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)",
                args![
                    &code_hash,
                    officer_id.to_string(),
                    now_ms() + ttl_seconds * 1000
                ],
            )?;
            audit(db, "admin_issue_code", Some(officer_id), None, json!({}))?;
            Ok(())
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceInfo>, StoreError> {
        self.run(|db| {
            db.query(
                "SELECT device_id, name, officer_id, enrolled_at, last_sync_at, revoked_at
                 FROM devices ORDER BY enrolled_at, device_id",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(DeviceInfo {
                    device_id: parse_id(&row.text(0)?)?,
                    name: row.text(1)?,
                    officer_id: parse_id(&row.text(2)?)?,
                    enrolled_at: row.text(3)?,
                    last_sync_at: row.opt_text(4)?,
                    revoked_at: row.opt_text(5)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn revoke(&self, device_id: Uuid) -> Result<bool, StoreError> {
        self.run(move |db| {
            let n = db.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                args![device_id.to_string(), now_text()],
            )?;
            if n > 0 {
                audit(db, "admin_revoke", None, Some(device_id), json!({}))?;
            }
            Ok(n > 0)
        })
        .await
    }

    async fn conflicts(&self, all: bool) -> Result<Vec<(Conflict, bool)>, StoreError> {
        self.run(move |db| {
            db.query(
                "SELECT data, resolved FROM conflicts WHERE ?1 OR resolved = FALSE ORDER BY id",
                args![all],
            )?
            .iter()
            .map(|row| {
                Ok((
                    serde_json::from_str(&row.text(0)?).map_err(corrupt("conflict"))?,
                    row.bool(1)?,
                ))
            })
            .collect()
        })
        .await
    }

    async fn resolve_conflict(&self, id: String) -> Result<bool, StoreError> {
        self.run(move |db| records::mark_conflict_resolved(db, &id, None))
            .await
    }

    async fn quarantine(&self) -> Result<Vec<QuarantineEntry>, StoreError> {
        self.run(|db| {
            db.query(
                "SELECT at, device_id, seq, code, mutation FROM quarantine ORDER BY id",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(QuarantineEntry {
                    at: row.text(0)?,
                    device_id: parse_id(&row.text(1)?)?,
                    seq: row.int(2)? as u64,
                    code: row.text(3)?,
                    mutation: serde_json::from_str(&row.text(4)?).map_err(corrupt("mutation"))?,
                })
            })
            .collect()
        })
        .await
    }

    async fn audit_lines(&self) -> Result<Vec<String>, StoreError> {
        self.run(|db| {
            db.query(
                "SELECT at, operation, officer_id, device_id, detail FROM audit ORDER BY id",
                &[],
            )?
            .iter()
            .map(|row| {
                let detail: Value =
                    serde_json::from_str(&row.text(4)?).map_err(corrupt("audit"))?;
                Ok(json!({
                    "at": row.text(0)?,
                    "operation": row.text(1)?,
                    "officer_id": row.opt_text(2)?,
                    "device_id": row.opt_text(3)?,
                    "detail": detail,
                })
                .to_string())
            })
            .collect()
        })
        .await
    }
}
