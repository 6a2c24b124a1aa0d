//! One simulated phone: a real encrypted store in the run's directory, on its own seeded
//! sources, talking through the simulated network; it can die (its `Pocketbook` dropped
//! between two writes) and be opened again, or be put back to a copy of its store taken
//! earlier (a phone restored from its backup: a fork, which the server detects and the phone
//! settles by enrolling its new identity with a fresh code). It keeps its part of the ledger:
//! the records it created and, per identity, the sequence numbers the server acknowledged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocketbook_core::{Entity, Error, OpenConfig, Pocketbook, SyncReport};
use pocketbook_sync_server::admin;
use uuid::Uuid;

use super::clock::SimSources;
use super::net::{Link, Net};

/// A simulated phone.
pub struct SimDevice {
    /// Its index (its name in the trace).
    pub index: usize,
    /// The officer (index) it belongs to.
    pub officer: usize,
    /// That officer's id (for the codes a fork needs).
    pub officer_id: Uuid,
    /// Its clock and generator.
    pub sources: Arc<SimSources>,
    /// Its store's file.
    pub path: PathBuf,
    net: Arc<Net>,
    book: Option<Pocketbook>,
    /// Its identities, the current one last: each fork adds one.
    pub ledgers: Vec<Ledger>,
    /// Records it created (kind, id).
    pub created: Vec<(Entity, Uuid)>,
    /// The server revoked it and it wiped itself.
    pub wiped: bool,
}

/// One identity of a device: its id and what the server acknowledged under it.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The device id.
    pub id: Uuid,
    /// Sequence numbers the server acknowledged (left the outbox, not refused).
    pub acked: BTreeSet<u64>,
}

/// A copy of a device's store (its backup) and how much of the ledger it knew.
#[derive(Debug, Clone)]
pub struct StoreCopy {
    dir: PathBuf,
    created: usize,
}

impl SimDevice {
    /// Creates (opens) a device store at `path`.
    pub fn new(
        index: usize,
        (officer, officer_id): (usize, Uuid),
        path: PathBuf,
        sources: Arc<SimSources>,
        net: Arc<Net>,
    ) -> SimDevice {
        let mut device = SimDevice {
            index,
            officer,
            officer_id,
            sources,
            path,
            net,
            book: None,
            ledgers: Vec::new(),
            created: Vec::new(),
            wiped: false,
        };
        device.open();
        let id = device
            .book()
            .device_id()
            .expect("a new store has a device id");
        device.ledgers.push(Ledger {
            id,
            acked: BTreeSet::new(),
        });
        device
    }

    /// Its current identity.
    pub fn ledger(&self) -> &Ledger {
        self.ledgers.last().expect("a device has an identity")
    }

    /// Its current device id.
    pub fn id(&self) -> Uuid {
        self.ledger().id
    }

    fn open(&mut self) {
        let mut book = Pocketbook::open_with_sources(
            OpenConfig {
                db_path: self.path.clone(),
                key: crate::key(),
                device_name: format!("sim phone {}", self.index),
            },
            self.sources.clone(),
        )
        .expect("a simulated device's store opens");
        book.set_transport(Arc::new(Link {
            net: self.net.clone(),
            device: self.index,
        }));
        self.book = Some(book);
    }

    /// The open store.
    pub fn book(&self) -> &Pocketbook {
        self.book.as_ref().expect("the device is open")
    }

    /// Dies between two writes and is opened again (the store on disk is all that survives).
    pub fn die_and_reopen(&mut self) {
        self.book = None;
        self.open();
    }

    /// The store's files (the database, its WAL and shared memory).
    fn files(&self) -> Vec<PathBuf> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| {
                let mut name = self.path.as_os_str().to_owned();
                name.push(suffix);
                PathBuf::from(name)
            })
            .collect()
    }

    /// Backs the store up into `dir` as the phone's own backup does (the app closed, its files
    /// copied whole), then opens it again.
    pub fn back_up(&mut self, dir: &Path) -> StoreCopy {
        self.book = None;
        std::fs::create_dir_all(dir).expect("the backup folder");
        for file in self.files() {
            if let Some(name) = file.file_name().filter(|_| file.exists()) {
                std::fs::copy(&file, dir.join(name)).expect("the store copies");
            }
        }
        self.open();
        StoreCopy {
            dir: dir.to_path_buf(),
            created: self.created.len(),
        }
    }

    /// Puts the store back to `copy` (the phone restored from its backup) and opens it. What it
    /// created since the copy and never got to the server is gone with the phone's state:
    /// `held` says whether the server holds a record, and the ledger forgets the rest.
    pub fn restore(&mut self, copy: &StoreCopy, held: &dyn Fn(Uuid) -> bool) -> usize {
        self.book = None;
        for file in self.files() {
            let _ = std::fs::remove_file(&file);
            if let Some(name) = file.file_name() {
                let saved = copy.dir.join(name);
                if saved.exists() {
                    std::fs::copy(&saved, &file).expect("the backup copies back");
                }
            }
        }
        self.open();
        let later = self.created.split_off(copy.created.min(self.created.len()));
        let forgotten = later.iter().filter(|(_, id)| !held(*id)).count();
        self.created
            .extend(later.into_iter().filter(|(_, id)| held(*id)));
        forgotten
    }

    /// Syncs once, then notes what the server acknowledged; the report, or the error's kind.
    /// A fork (a restored or copied store) is settled as an officer would: the new identity
    /// enrols with a fresh code (through the same network, so it may take several tries).
    pub async fn sync(&mut self) -> Result<SyncReport, String> {
        let outcome = self.book().sync().await;
        match outcome {
            Err(Error::DeviceRevoked) => {
                self.wiped = true;
                return Err("DeviceRevoked".into());
            }
            Err(Error::DeviceForked) => {
                self.settle_fork().await;
                return Err("DeviceForked".into());
            }
            _ => {}
        }
        self.note_acks();
        outcome.map_err(|e| kind(&e))
    }

    /// After a `DeviceForked`: the store now has a new id (its ledger starts afresh, what it
    /// sends counted under its next identity) and asks for a code.
    async fn settle_fork(&mut self) {
        let id = self.book().device_id().expect("a store has a device id");
        if id != self.id() {
            self.net.fork(self.index);
            self.ledgers.push(Ledger {
                id,
                acked: BTreeSet::new(),
            });
        }
        let code = admin::codes::issue_code(&self.net.store(), self.officer_id, 24)
            .await
            .expect("an admin issues a code");
        let enrolled = self.book().reauthenticate(&code).await.map(|_| ());
        self.net.trace_line(&format!(
            "d{} forked: enrols as a new device {enrolled:?}",
            self.index
        ));
    }

    /// Moves every sent mutation that left the outbox without a refusal into `acked`.
    fn note_acks(&mut self) {
        let Ok(pending) = self.book().pending_changes() else {
            return;
        };
        let Ok(status) = self.book().sync_status() else {
            return;
        };
        let mut waiting: BTreeSet<u64> = pending.iter().map(|m| m.seq).collect();
        waiting.extend(status.rejected.iter().map(|r| r.seq));
        waiting.extend(status.waiting_for_server.iter().map(|r| r.seq));
        let identity = self.net.identity(self.index);
        let acked: Vec<u64> = self
            .net
            .sent()
            .keys()
            .filter(|(d, i, seq)| *d == self.index && *i == identity && !waiting.contains(seq))
            .map(|(_, _, seq)| *seq)
            .collect();
        if let Some(ledger) = self.ledgers.last_mut() {
            ledger.acked.extend(acked);
        }
    }
}

/// An error's kind (its variant name), for the trace: never its message.
pub fn kind(e: &Error) -> String {
    let text = format!("{e:?}");
    text.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("Error")
        .to_string()
}
