//! [`SqlStore`]: the one implementation of [`Store`], generic over a [`Backend`] that opens
//! transactions. Every operation runs on tokio's blocking pool inside one transaction, so it
//! lands whole or not at all; the backend may run an operation again after a transient
//! failure (PostgreSQL's deadlock or serialization errors), so operations are written to be
//! repeatable. Wall time, ids and random bytes come from the store's [`Sources`].

use std::sync::Arc;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::sources::{Sources, SystemSources};
use pocketbook_protocol::wire::{PullRequest, PullResponse, PushRequest, PushResponse};
use pocketbook_protocol::{Establishment, Officer, Role, Team};
use serde_json::{json, Value};
use uuid::Uuid;

use super::conflicts::mark_conflict_resolved;
use super::decode::{all_json, corrupt, parse_id};
use super::epoch::EpochCheck;
use super::identity;
use super::meta::{acting_as, audit, meta};
use super::reference::{self, team_ids};
use super::sql::{args, Db};
use super::{caps, cascade, pull, push, record_scan};
use super::{
    Device, DeviceInfo, Enrolment, QuarantineEntry, ServedPage, Store, StoreCheck, TokenCheck,
};
use crate::error::{PushRefusal, StoreError};
use crate::gias::GiasEstablishment;
use crate::journal::{record, Action};

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

    /// Runs `f`, which only reads, where it does not wait behind a writer (SQLite: a second,
    /// read-only connection; the default is [`Backend::transaction`]). Health checks and token
    /// checks use it, so a request refused before authentication never queues for the writer.
    fn read<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(f)
    }
}

/// The server's store over a SQL backend.
pub struct SqlStore<B> {
    backend: Arc<B>,
    pub(super) enrol_limit: i64,
    sources: Arc<dyn Sources>,
    actor: Option<Arc<str>>,
    journal: Option<Arc<crate::journal::Journal>>,
}

impl<B> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        SqlStore {
            backend: self.backend.clone(),
            enrol_limit: self.enrol_limit,
            sources: self.sources.clone(),
            actor: self.actor.clone(),
            journal: self.journal.clone(),
        }
    }
}

impl<B: Backend> SqlStore<B> {
    /// Wraps an opened, migrated backend, on the system's clock and random source.
    pub fn new(backend: B) -> Self {
        Self::with_sources(backend, Arc::new(SystemSources))
    }

    /// Wraps an opened, migrated backend that takes wall time, ids and random bytes from
    /// `sources`.
    pub fn with_sources(backend: B, sources: Arc<dyn Sources>) -> Self {
        SqlStore {
            backend: Arc::new(backend),
            enrol_limit: ENROL_ATTEMPTS_PER_MINUTE,
            sources,
            actor: None,
            journal: None,
        }
    }

    /// Allows `per_minute` enrolment attempts per client address (default
    /// [`ENROL_ATTEMPTS_PER_MINUTE`]); a rehearsal enrolling a whole force from one address
    /// raises it.
    pub fn with_enrol_limit(mut self, per_minute: u32) -> Self {
        self.enrol_limit = i64::from(per_minute.max(1));
        self
    }

    /// Records `name` as the admin acting in every audit row this store writes (`--as`);
    /// `None`: no admin (a serving process).
    pub fn acting_as(mut self, name: Option<&str>) -> Self {
        self.actor = name.map(Arc::from);
        self
    }

    /// Appends every admin action this store performs to `journal` (`--admin-journal`).
    pub fn with_journal(mut self, journal: Option<crate::journal::Journal>) -> Self {
        self.journal = journal.map(Arc::new);
        self
    }

    /// Runs `f` in one transaction on the blocking pool, with the store's sources.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut dyn Db, &dyn Sources) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.on_pool(false, f).await
    }

    /// Runs a read-only `f` on the blocking pool through [`Backend::read`].
    pub(super) async fn run_read<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut dyn Db, &dyn Sources) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.on_pool(true, f).await
    }

    /// Runs `f` on the blocking pool in a writing transaction, or a read one (`read`).
    async fn on_pool<T: Send + 'static>(
        &self,
        read: bool,
        mut f: impl FnMut(&mut dyn Db, &dyn Sources) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let backend = self.backend.clone();
        let sources = self.sources.clone();
        let (actor, journal) = (self.actor.clone(), self.journal.clone());
        tokio::task::spawn_blocking(move || {
            let mut body = |db: &mut dyn Db| f(db, sources.as_ref());
            let run = || match read {
                true => backend.read(&mut body),
                false => backend.transaction(&mut body),
            };
            crate::journal::writing_to(journal, || acting_as(actor.as_deref(), run))
        })
        .await
        .map_err(|_| StoreError::Task)?
    }
}

impl<B: Backend> Store for SqlStore<B> {
    async fn epoch_refusal(&self, id: Uuid, named: Option<String>) -> EpochCheck {
        self.run_read(move |db, _| super::epoch::refusal(db, id, named.as_deref()))
            .await
    }

    fn sources(&self) -> &Arc<dyn Sources> {
        &self.sources
    }

    async fn identity(&self) -> Result<(Uuid, String), StoreError> {
        self.run_read(|db, _| Ok((parse_id(&meta(db, "server_id")?)?, meta(db, "epoch")?)))
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
        let attempt = identity::plain(code_hash, device_id, device_name, token_hash, client);
        identity::enroll(self, attempt).await
    }

    async fn check_token(&self, token_hash: String) -> Result<TokenCheck, StoreError> {
        self.run_read(move |db, sources| identity::check_token(db, sources, &token_hash))
            .await
    }

    async fn push(
        &self,
        device: Device,
        request: PushRequest,
    ) -> Result<Result<PushResponse, PushRefusal>, StoreError> {
        self.run(move |db, sources| push::push(db, sources, &device, &request))
            .await
    }

    async fn serve_pull(
        &self,
        device: Device,
        request: PullRequest,
    ) -> Result<ServedPage, StoreError> {
        self.run(move |db, sources| pull::pull(db, sources, &device, &request))
            .await
    }

    async fn pull(&self, device: Device, request: PullRequest) -> Result<PullResponse, StoreError> {
        self.serve_pull(device, request).await?.decode()
    }

    async fn add_team(&self, name: String) -> Result<Team, StoreError> {
        self.run(move |db, sources| {
            let taken = db
                .query_opt("SELECT id FROM teams WHERE name = ?1", args![&name])?
                .is_some();
            if taken {
                return Err(StoreError::Invalid("a team with that name exists".into()));
            }
            let team = Team {
                id: sources.new_id(),
                name: name.clone(),
            };
            db.execute(
                "INSERT INTO teams (id, name) VALUES (?1, ?2)",
                args![team.id.to_string(), &team.name],
            )?;
            audit(
                db,
                sources,
                "admin_add_team",
                None,
                None,
                json!({ "team_id": team.id }),
            )?;
            let name = team.name.clone();
            record(
                db,
                sources,
                Action::AddTeam {
                    team_id: team.id,
                    name,
                },
            )?;
            Ok(team)
        })
        .await
    }

    async fn teams(&self) -> Result<Vec<Team>, StoreError> {
        self.run(|db, _| reference::teams(db)).await
    }

    async fn add_officer(
        &self,
        name: String,
        shoulder_number: String,
        role: Role,
        team_ids: Vec<Uuid>,
    ) -> Result<Officer, StoreError> {
        self.run(move |db, sources| {
            let known = self::team_ids(db)?;
            if team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let o = Officer {
                id: sources.new_id(),
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
            reference::set_officer_teams(db, &o)?;
            super::epoch::note_teams(db, o.id, &o.team_ids)?;
            audit(
                db,
                sources,
                "admin_add_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            record(db, sources, Action::AddOfficer { officer: o.clone() })?;
            Ok(o)
        })
        .await
    }

    async fn update_officer(&self, o: Officer) -> Result<(), StoreError> {
        self.run(move |db, sources| {
            let known = self::team_ids(db)?;
            if o.team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let before = reference::officer(db, o.id)?
                .map(|b| b.team_ids)
                .unwrap_or_default();
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
            reference::set_officer_teams(db, &o)?;
            // Change numbers before the audit row: the writers' lock is taken before the
            // audit chain's, in every transaction, or two writers could deadlock.
            cascade::author_teams_changed(db, o.id, &before, &o.team_ids)?;
            super::epoch::note_teams(db, o.id, &o.team_ids)?;
            audit(
                db,
                sources,
                "admin_update_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            record(db, sources, Action::UpdateOfficer { officer: o.clone() })?;
            Ok(())
        })
        .await
    }

    async fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        self.run(|db, _| all_json(db, "SELECT data FROM officers ORDER BY id", "officer"))
            .await
    }

    async fn put_establishments(
        &self,
        list: Vec<Establishment>,
    ) -> Result<(usize, usize), StoreError> {
        let list: Vec<_> = list.into_iter().map(|e| (e, None)).collect();
        self.run(move |db, sources| reference::put_establishments(db, sources, &list))
            .await
    }

    async fn put_gias_establishments(
        &self,
        list: Vec<GiasEstablishment>,
    ) -> Result<(usize, usize), StoreError> {
        let list: Vec<_> = list
            .into_iter()
            .map(|g| (g.establishment, Some(g.status)))
            .collect();
        self.run(move |db, sources| reference::put_establishments(db, sources, &list))
            .await
    }

    async fn establishments(&self) -> Result<Vec<Establishment>, StoreError> {
        self.run(|db, _| reference::establishments(db)).await
    }

    async fn add_code(
        &self,
        officer_id: Uuid,
        code_hash: String,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        self.run(move |db, sources| {
            super::enrol::add_code(db, sources, officer_id, &code_hash, ttl_seconds)
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceInfo>, StoreError> {
        self.run(|db, _| {
            db.query(
                "SELECT device_id, name, officer_id, enrolled_at, last_sync_at, revoked_at,
                        suspended_at
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
                    suspended_at: row.opt_text(6)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn revoke(&self, device_id: Uuid) -> Result<bool, StoreError> {
        self.run(move |db, sources| identity::revoke(db, sources, device_id))
            .await
    }

    async fn lift_suspension(&self, device_id: Uuid) -> Result<bool, StoreError> {
        self.run(move |db, sources| caps::lift(db, sources, device_id))
            .await
    }

    async fn validate_store(&self) -> Result<StoreCheck, StoreError> {
        self.run(|db, sources| record_scan::validate_store(db, sources))
            .await
    }

    async fn conflicts(&self, all: bool) -> Result<Vec<(Conflict, bool)>, StoreError> {
        self.run(move |db, _| {
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
        self.run(move |db, sources| mark_conflict_resolved(db, sources, &id, None))
            .await
    }

    async fn quarantine(&self) -> Result<Vec<QuarantineEntry>, StoreError> {
        self.run(|db, _| {
            db.query(
                "SELECT at, device_id, seq, code, mutation FROM quarantine ORDER BY id",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(QuarantineEntry {
                    at: row.text(0)?,
                    device_id: parse_id(&row.text(1)?)?,
                    seq: super::decode::counter(row.int(2)?),
                    code: row.text(3)?,
                    mutation: serde_json::from_str(&row.text(4)?).map_err(corrupt("mutation"))?,
                })
            })
            .collect()
        })
        .await
    }

    async fn audit_lines(&self) -> Result<Vec<String>, StoreError> {
        self.run(|db, _| {
            db.query(
                "SELECT at, operation, officer_id, device_id, detail, actor FROM audit ORDER BY id",
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
                    "actor": row.opt_text(5)?,
                    "detail": detail,
                })
                .to_string())
            })
            .collect()
        })
        .await
    }

    async fn enroll_device(&self, attempt: super::EnrolAttempt) -> Result<Enrolment, StoreError> {
        identity::enroll(self, attempt).await
    }

    async fn renew_lease(&self, device_id: Uuid, lease_until_ms: i64) -> Result<(), StoreError> {
        self.run(move |db, _| identity::renew_lease(db, device_id, lease_until_ms))
            .await
    }

    async fn audit_head(&self) -> Result<String, StoreError> {
        self.run_read(|db, _| super::meta::chain_head(db)).await
    }

    async fn verify_audit(&self) -> Result<super::ChainReport, StoreError> {
        self.run_read(|db, _| super::meta::verify_chain(db)).await
    }
}
