//! One simulated phone: a real encrypted store in the run's directory, on its own seeded
//! sources, talking through the simulated network; it can die (its `Pocketbook` dropped
//! between two writes) and be opened again. It keeps its part of the ledger: the records it
//! created and the sequence numbers the server acknowledged.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use pocketbook_core::{Entity, Error, OpenConfig, Pocketbook, SyncReport};
use uuid::Uuid;

use super::clock::SimSources;
use super::net::{Link, Net};

/// A simulated phone.
pub struct SimDevice {
    /// Its index (its name in the trace).
    pub index: usize,
    /// The officer (index) it belongs to.
    pub officer: usize,
    /// Its clock and generator.
    pub sources: Arc<SimSources>,
    path: PathBuf,
    net: Arc<Net>,
    book: Option<Pocketbook>,
    /// Its device id (known once opened).
    pub id: Uuid,
    /// Records it created (kind, id).
    pub created: Vec<(Entity, Uuid)>,
    /// Sequence numbers the server acknowledged (left the outbox, not refused).
    pub acked: BTreeSet<u64>,
    /// The server revoked it and it wiped itself.
    pub wiped: bool,
}

impl SimDevice {
    /// Creates (opens) a device store at `path`.
    pub fn new(
        index: usize,
        officer: usize,
        path: PathBuf,
        sources: Arc<SimSources>,
        net: Arc<Net>,
    ) -> SimDevice {
        let mut device = SimDevice {
            index,
            officer,
            sources,
            path,
            net,
            book: None,
            id: Uuid::nil(),
            created: Vec::new(),
            acked: BTreeSet::new(),
            wiped: false,
        };
        device.open();
        device.id = device
            .book()
            .device_id()
            .expect("a new store has a device id");
        device
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

    /// Syncs once, then notes what the server acknowledged; the report, or the error's kind.
    pub async fn sync(&mut self) -> Result<SyncReport, String> {
        let outcome = self.book().sync().await;
        if let Err(Error::DeviceRevoked) = outcome {
            self.wiped = true;
            return Err("DeviceRevoked".into());
        }
        self.note_acks();
        outcome.map_err(|e| kind(&e))
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
        for (device, seq) in self.net.sent().keys() {
            if *device == self.index && !waiting.contains(seq) {
                self.acked.insert(*seq);
            }
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
