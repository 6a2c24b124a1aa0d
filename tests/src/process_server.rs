//! A real `pocketbook-server` process over a SQLite file, for tests that kill it: started,
//! SIGKILLed and restarted on the same address and database, with admin commands run as
//! separate processes the way an operator runs them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The server binary the workspace build made beside the test executable.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join("pocketbook-server");
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p pocketbook-sync-server)",
        path.display()
    );
    path
}

/// A server process with one team and one officer, killed when dropped.
pub struct ServerProcess {
    child: Option<Child>,
    /// Base URL, e.g. `http://127.0.0.1:40123`; the same after a restart.
    pub url: String,
    addr: String,
    /// The SQLite file.
    pub db: PathBuf,
    /// The team's id.
    pub team: String,
    /// The officer's id.
    pub officer: String,
    _dir: tempfile::TempDir,
}

/// Runs an admin command against `db` and returns what it printed.
pub fn admin(db: &Path, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run an admin command");
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

impl ServerProcess {
    /// A new database with one team and one officer, served on a free port of 127.0.0.1.
    pub fn start() -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("server.db");
        let team = admin(&db, &["team", "add", "Team A"]);
        let officer = admin(
            &db,
            &[
                "officer", "add", "--name", "PC One", "--number", "1", "--team", &team,
            ],
        );
        let (child, url) = spawn(&db, "127.0.0.1:0");
        let addr = url.trim_start_matches("http://").to_string();
        ServerProcess {
            child: Some(child),
            url,
            addr,
            db,
            team,
            officer,
            _dir: dir,
        }
    }

    /// A one-time enrolment code for the officer.
    pub fn code(&self) -> String {
        admin(&self.db, &["code", "--officer", &self.officer])
    }

    /// SIGKILLs the server and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    /// Starts the server again on the same address and database (after [`Self::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        // The port was ours a moment ago; another process could take it, which a test would
        // see as a failed start rather than a silent pass.
        let (child, url) = spawn(&self.db, &self.addr);
        assert_eq!(url, self.url, "the server came back on another address");
        self.child = Some(child);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(db: &Path, listen: &str) -> (Child, String) {
    let mut child = Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", listen])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("server stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, url)
}
