//! A real sync server for tests: the `pocketbook-sync-server` router on a listener bound to
//! 127.0.0.1:0, over a SQLite file in a temporary directory, with teams, officers and
//! establishments set up through the same store the admin commands use.

use std::path::PathBuf;

use pocketbook_core::{OpenConfig, Pocketbook};
use pocketbook_protocol::{Establishment, EstablishmentKind, Officer, Role};
use pocketbook_sync_server::api::Config;
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{SqliteStore, Store};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The one school test servers know (URN 100001).
pub fn test_school(id: Uuid) -> Establishment {
    Establishment {
        id,
        urn: "100001".into(),
        name: "Northfield Academy".into(),
        kind: EstablishmentKind::Secondary,
        ward: None,
        dsl_contact: None,
        dedicated_officer: None,
        priority: 1,
        closed: false,
    }
}

/// A running server.
pub struct TestServer {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The store behind it, for admin actions and inspection.
    pub store: SqliteStore,
    /// Team A.
    pub team_a: Uuid,
    /// Team B.
    pub team_b: Uuid,
    /// The school every team works with.
    pub school: Uuid,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with two teams and one establishment.
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    /// [`TestServer::start`] with settings.
    pub async fn start_with(config: Config) -> Self {
        Self::start_with_sources(config, std::sync::Arc::new(pocketbook_core::SystemSources)).await
    }

    /// [`TestServer::start_with`], the server taking wall time, ids and random bytes from
    /// `sources` (seeded time lets a test move the server's clock, to end a lease, instead of
    /// sleeping).
    pub async fn start_with_sources(
        config: Config,
        sources: std::sync::Arc<dyn pocketbook_core::Sources>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open_with_sources(&dir.path().join("server.db"), sources)
            .expect("server store");
        let team_a = store.add_team("Team A".into()).await.expect("team").id;
        let team_b = store.add_team("Team B".into()).await.expect("team").id;
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
            config,
            async {
                let _ = stopped.await;
            },
        ));
        TestServer {
            url,
            store,
            team_a,
            team_b,
            school,
            dir,
            stop: Some(stop),
        }
    }

    /// Adds an officer.
    pub async fn officer(&self, name: &str, role: Role, teams: &[Uuid]) -> Officer {
        self.store
            .add_officer(name.into(), "0000".into(), role, teams.to_vec())
            .await
            .expect("officer")
    }

    /// Issues a one-time code for an officer.
    pub async fn code(&self, officer: Uuid) -> String {
        let code = new_code();
        self.store
            .add_code(officer, code_hash(&code), 3600)
            .await
            .expect("code");
        code
    }

    /// A new encrypted device store, enrolled for `officer`.
    pub async fn device(&self, officer: Uuid) -> TestDevice {
        let device = TestDevice::new();
        device
            .book
            .enroll(&self.url, &self.code(officer).await)
            .await
            .expect("enrol");
        device
    }

    /// The server's temporary directory.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An encrypted device store in its own temporary directory.
pub struct TestDevice {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The database file.
    pub path: PathBuf,
    /// The open store.
    pub book: Pocketbook,
}

impl TestDevice {
    /// A new, unenrolled device.
    pub fn new() -> Self {
        Self::with_sources(std::sync::Arc::new(pocketbook_core::SystemSources))
    }

    /// A new, unenrolled device whose wall time and ids come from `sources` (seeded time lets
    /// a test move the clock instead of sleeping).
    pub fn with_sources(sources: std::sync::Arc<dyn pocketbook_core::Sources>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("device.db");
        let book = Pocketbook::open_with_sources(
            OpenConfig {
                db_path: path.clone(),
                key: crate::key(),
                device_name: "test phone".into(),
            },
            sources,
        )
        .expect("open device store");
        TestDevice { dir, path, book }
    }
}

impl Default for TestDevice {
    fn default() -> Self {
        Self::new()
    }
}
