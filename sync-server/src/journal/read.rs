//! Reading the admin journal back and verifying it before anything is replayed: every line an
//! entry, numbered from 1 without a gap, chained to the line before by its hash, of this
//! server. A partial last line (a crash mid-append: never acknowledged) is ignored with a
//! warning. Blocking file IO.

use std::path::Path;

use pocketbook_protocol::GENESIS_HASH;
use uuid::Uuid;

use super::{entry_hash, Action, Entry, JournalError};

/// A journal that holds, read whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Its entries, in order, with their actions decoded.
    pub entries: Vec<(Entry, Action)>,
    /// A partial last line was ignored.
    pub partial_tail: bool,
}

impl Verified {
    /// The last entry's number (0 when empty).
    pub fn last(&self) -> u64 {
        self.entries.last().map_or(0, |(e, _)| e.n)
    }
}

/// Reads the journal at `path` and verifies it as `server`'s; a missing file is an empty
/// journal. Fails on the first line that does not hold, naming it.
pub fn read_verified(path: &Path, server: Uuid) -> Result<Verified, JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(JournalError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // After the last newline: nothing, or a line a crash cut short.
    let partial_tail = lines.pop().is_some_and(|rest| !rest.is_empty());
    if partial_tail {
        tracing::warn!(
            path = %path.display(),
            "admin journal: a partial last line (a crash mid-append) is ignored"
        );
    }
    let mut prev = GENESIS_HASH.to_string();
    let mut entries = Vec::with_capacity(lines.len());
    for (i, text) in lines.into_iter().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        let broken = |reason| JournalError::Broken { line, reason };
        let entry: Entry =
            serde_json::from_slice(text).map_err(|_| broken("not a journal entry"))?;
        if entry.n != line {
            return Err(broken("out of place: a line before it is missing or moved"));
        }
        if entry.prev != prev {
            return Err(broken("its previous hash is not the previous line's hash"));
        }
        if entry_hash(&prev, entry.n, entry.server, &entry.at, &entry.action) != entry.hash {
            return Err(broken("its content does not match its hash"));
        }
        if entry.server != server {
            return Err(JournalError::ForeignServer { line });
        }
        let action: Action = serde_json::from_value(entry.action.clone())
            .map_err(|_| broken("an action this server does not know"))?;
        prev = entry.hash.clone();
        entries.push((entry, action));
    }
    Ok(Verified {
        entries,
        partial_tail,
    })
}
