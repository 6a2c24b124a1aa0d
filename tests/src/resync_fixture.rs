//! A real server over either backend for the compaction and resync suite (issue 12): the
//! router on 127.0.0.1:0 over a SQLite file or a fresh PostgreSQL database, its time seeded
//! so a test moves it past a compaction horizon instead of waiting; and a device that speaks
//! raw HTTP with a real token, to see `410 resync_required` as the server sent it.

use std::sync::Arc;

use chrono::Utc;
use pocketbook_protocol::sources::SeededSources;
use pocketbook_protocol::wire::{EnrollRequest, EnrollResponse, PROTOCOL_HEADER};
use pocketbook_protocol::{Officer, Role};
use pocketbook_sync_server::api::Config;
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{
    Compaction, PostgresOptions, PostgresStore, SqliteStore, Store,
};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::server::{test_school, TestDevice};

/// A running server over store `S`, with seeded time.
pub struct ResyncServer<S> {
    /// Base URL.
    pub url: String,
    /// The store behind it.
    pub store: S,
    /// The server's time: `advance` it to age what was written.
    pub clock: Arc<SeededSources>,
    /// The one team.
    pub team: Uuid,
    /// The school the team works with.
    pub school: Uuid,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl ResyncServer<SqliteStore> {
    /// A server over a SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = seeded();
        let store = SqliteStore::open_with_sources(&dir.path().join("server.db"), clock.clone())
            .expect("server store");
        Self::start(store, clock, Some(dir)).await
    }
}

impl ResyncServer<PostgresStore> {
    /// A server over a fresh database on the test cluster (`scripts/with-postgres`).
    pub async fn postgres() -> Self {
        let url = crate::pg::pg_database().await;
        let clock = seeded();
        let sources = clock.clone();
        let store = tokio::task::spawn_blocking(move || {
            PostgresStore::connect_with_sources(&url, PostgresOptions::default(), sources)
        })
        .await
        .expect("connect task")
        .expect("postgres store");
        Self::start(store, clock, None).await
    }
}

fn seeded() -> Arc<SeededSources> {
    Arc::new(SeededSources::new(12, Utc::now()))
}

impl<S: Store + Compaction> ResyncServer<S> {
    async fn start(store: S, clock: Arc<SeededSources>, dir: Option<tempfile::TempDir>) -> Self {
        let team = store.add_team("Team A".into()).await.expect("team").id;
        let school = Uuid::now_v7();
        store
            .put_establishments(vec![test_school(school)])
            .await
            .expect("establishment");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(pocketbook_sync_server::serve(
            listener,
            store.clone(),
            Config::default(),
            async {
                let _ = stopped.await;
            },
        ));
        ResyncServer {
            url,
            store,
            clock,
            team,
            school,
            _dir: dir,
            stop: Some(stop),
        }
    }

    /// Adds an officer of the team.
    pub async fn officer(&self, name: &str, role: Role) -> Officer {
        self.store
            .add_officer(name.into(), "0000".into(), role, vec![self.team])
            .await
            .expect("officer")
    }

    /// Issues a one-time code.
    pub async fn code(&self, officer: Uuid) -> String {
        let code = new_code();
        self.store
            .add_code(officer, code_hash(&code), 3600)
            .await
            .expect("code");
        code
    }

    /// A new encrypted device, enrolled for `officer`.
    pub async fn device(&self, officer: Uuid) -> TestDevice {
        let device = TestDevice::new();
        device
            .book
            .enroll(&self.url, &self.code(officer).await)
            .await
            .expect("enrol");
        device
    }

    /// A raw HTTP device, enrolled for `officer`.
    pub async fn raw(&self, officer: Uuid) -> RawPuller {
        let http = crate::http_client();
        let device_id = Uuid::now_v7();
        let answer: EnrollResponse = http
            .post(format!("{}/v1/enroll", self.url))
            .header(PROTOCOL_HEADER, "1")
            .json(&EnrollRequest {
                code: self.code(officer).await,
                device_id,
                device_name: "raw puller".into(),
                token: None,
            })
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrol answer");
        RawPuller {
            http,
            url: self.url.clone(),
            token: answer.token,
            device_id,
        }
    }
}

impl<S> Drop for ResyncServer<S> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A device that pulls over raw HTTP.
pub struct RawPuller {
    http: reqwest::Client,
    url: String,
    token: String,
    /// Its device id.
    pub device_id: Uuid,
}

impl RawPuller {
    /// One pull page from `epoch` and `cursors`: the status and the body.
    pub async fn page(&self, epoch: &Value, cursors: &Value) -> (u16, Value) {
        self.page_of(epoch, cursors, 500).await
    }

    /// [`RawPuller::page`] of at most `limit` entries.
    pub async fn page_of(&self, epoch: &Value, cursors: &Value, limit: u32) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}/v1/sync/pull", self.url))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&self.token)
            .json(&json!({ "epoch": epoch, "cursors": cursors, "limit": limit }))
            .send()
            .await
            .expect("pull");
        let status = answer.status().as_u16();
        (status, answer.json().await.expect("pull body"))
    }

    /// Pulls every page from 0; the last answer (its epoch and cursors).
    pub async fn pull_all(&self) -> Value {
        let (mut epoch, mut cursors) = (Value::Null, json!({}));
        loop {
            let (status, body) = self.page(&epoch, &cursors).await;
            assert_eq!(status, 200, "{body}");
            epoch = body["epoch"].clone();
            cursors = body["cursors"].clone();
            if body["remaining"] == 0 {
                return body;
            }
        }
    }
}
