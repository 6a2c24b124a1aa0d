//! Appending to the admin journal: under an exclusive advisory lock on the file, read the last
//! complete line (a partial last line, left by a crash mid-append, is cut off with a warning),
//! write the next entry chained to it in one write, and fsync before the lock is released.
//! Blocking file IO: runs on the store's blocking thread, inside the action's transaction.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use pocketbook_protocol::GENESIS_HASH;
use uuid::Uuid;

use super::{entry_hash, Entry, JournalError};

/// The most of the file's end read to find its last line (a line is far shorter).
const TAIL: u64 = 64 * 1024;

/// An admin journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal at `path` (created at the first append; its folder must exist).
    pub fn at(path: impl Into<PathBuf>) -> Journal {
        Journal { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Appends `action` by `server` at `at` as the next entry and fsyncs it; its number. The
    /// database says it has applied up to entry `applied`: a journal ending before that is not
    /// its journal (or was cut short), and nothing is written.
    pub fn append(
        &self,
        server: Uuid,
        at: &str,
        action: serde_json::Value,
        applied: u64,
    ) -> Result<u64, JournalError> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        // Owner-only, like the database: it names officers and devices.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(|e| self.io(e))?;
        file.lock().map_err(|e| self.io(e))?;
        let appended = self.append_locked(&mut file, server, at, action, applied);
        let unlocked = file.unlock().map_err(|e| self.io(e));
        let n = appended?;
        unlocked?;
        Ok(n)
    }

    fn append_locked(
        &self,
        file: &mut File,
        server: Uuid,
        at: &str,
        action: serde_json::Value,
        applied: u64,
    ) -> Result<u64, JournalError> {
        let (last_n, prev, created) = match self.last_entry(file)? {
            Some(last) if last.server != server => {
                return Err(JournalError::ForeignServer { line: last.n })
            }
            Some(last) => (last.n, last.hash, false),
            None => (0, GENESIS_HASH.to_string(), true),
        };
        if last_n < applied {
            return Err(JournalError::Behind {
                journal: last_n,
                database: applied,
            });
        }
        let n = last_n + 1;
        let hash = entry_hash(&prev, n, server, at, &action);
        let entry = Entry {
            n,
            server,
            at: at.to_string(),
            action,
            prev,
            hash,
        };
        let mut line = serde_json::to_vec(&entry).map_err(|e| self.io(std::io::Error::other(e)))?;
        line.push(b'\n');
        file.write_all(&line).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        if created {
            // The file's own directory entry must survive a crash too.
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| self.io(e))?;
            }
        }
        Ok(n)
    }

    /// The last complete entry, after cutting off a partial last line; `None` when empty.
    fn last_entry(&self, file: &mut File) -> Result<Option<Entry>, JournalError> {
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        if len == 0 {
            return Ok(None);
        }
        let start = len.saturating_sub(TAIL);
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_to_end(&mut tail))
            .map_err(|e| self.io(e))?;
        let mut complete = tail.len();
        if tail.last() != Some(&b'\n') {
            // A crash mid-append left a partial line: it was never acknowledged; cut it off.
            complete = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if complete == 0 && start > 0 {
                return Err(JournalError::Unreadable {
                    reason: "its last line is too long to be an entry",
                });
            }
            tracing::warn!(
                path = %self.path.display(),
                "admin journal: a partial last line (a crash mid-append) was cut off"
            );
            let keep = start + u64::try_from(complete).unwrap_or(u64::MAX);
            file.set_len(keep).map_err(|e| self.io(e))?;
            if complete == 0 {
                return Ok(None);
            }
        }
        let body = &tail[..complete - 1];
        let from = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let entry: Entry =
            serde_json::from_slice(&body[from..]).map_err(|_| JournalError::Unreadable {
                reason: "its last line is not an entry",
            })?;
        Ok(Some(entry))
    }
}
