//! A real `pocketbook-server` process over a SQLite file for the restore suite (issue 12):
//! started, stopped (killed) and started again on the same port, so enrolled devices keep
//! their server URL across a `restore`; admin commands run as the binary runs them. Build
//! the server first (`cargo build -p pocketbook-sync-server`; `cargo test --workspace` does).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::server::TestDevice;

/// A deadline only a hang misses.
const HANG: Duration = Duration::from_secs(30);

pub use crate::process_server::server_binary;

/// Runs an admin command on `db`; its output, whatever the outcome.
pub fn admin_output(db: &Path, args: &[&str]) -> Output {
    Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run an admin command")
}

/// Runs an admin command on `db` that must succeed; its standard output, trimmed.
pub fn admin(db: &Path, args: &[&str]) -> String {
    let out = admin_output(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A server process over a SQLite file in its own directory; killed when dropped.
pub struct ServerProcess {
    /// The SQLite file.
    pub db: PathBuf,
    /// Base URL (the same after every restart).
    pub url: String,
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// A new store (created by a first admin command), not yet serving.
    pub fn new() -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        ServerProcess {
            db: dir.path().join("server.db"),
            url: String::new(),
            port: 0,
            child: None,
            dir,
        }
    }

    /// A path in the server's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The admin journal every command and the serving process append to (as an operator
    /// runs them: outside the database, so a restore can replay it).
    pub fn journal(&self) -> PathBuf {
        self.path("admin-journal.jsonl")
    }

    /// Runs an admin command on the store, with the journal.
    pub fn admin(&self, args: &[&str]) -> String {
        let journal = self.journal();
        let journal = journal.to_str().expect("utf-8 path");
        let with_journal: Vec<&str> = ["--admin-journal", journal]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        admin(&self.db, &with_journal)
    }

    /// Starts serving: on a free port the first time, on the same port after.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already serving");
        let deadline = Instant::now() + HANG;
        loop {
            let listen = format!("127.0.0.1:{}", self.port);
            let mut child = Command::new(server_binary())
                .arg("--db")
                .arg(&self.db)
                .arg("--admin-journal")
                .arg(self.journal())
                .args(["serve", "--listen", &listen])
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start server");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("read the listening line");
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                self.url = url.to_string();
                self.port = url
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port");
                self.child = Some(child);
                return;
            }
            // The port was not free again yet: the process failed to bind.
            let _ = child.kill();
            let _ = child.wait();
            assert!(Instant::now() < deadline, "the server never started");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops serving (SIGKILL: nothing the process holds is flushed by a goodbye).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A one-time enrolment code for `officer`.
    pub fn code(&self, officer: &str) -> String {
        self.admin(&["code", "--officer", officer])
    }

    /// A new encrypted device store, enrolled for `officer`.
    pub async fn device(&self, officer: &str) -> TestDevice {
        let device = TestDevice::new();
        device
            .book
            .enroll(&self.url, &self.code(officer))
            .await
            .expect("enrol");
        device
    }
}

impl Default for ServerProcess {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
