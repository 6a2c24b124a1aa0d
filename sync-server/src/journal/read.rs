//! Reading the admin journal back and verifying it before anything is replayed: every line an
//! entry, numbered from 1 without a gap, chained to the line before by its hash, of this
//! server. A partial last line (a crash mid-append: never acknowledged) is ignored with a
//! warning. Blocking file IO, one line at a time.

use std::io::{BufRead, BufReader};
use std::path::Path;

use pocketbook_protocol::GENESIS_HASH;
use uuid::Uuid;

use super::{entry_hash, Action, Entry, JournalError};

/// A journal that holds, read whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Its entries (those after the number asked for), in order, with their actions decoded.
    pub entries: Vec<(Entry, Action)>,
    /// A partial last line was ignored.
    pub partial_tail: bool,
    /// The last entry's number (0 when empty).
    last: u64,
}

impl Verified {
    /// The last entry's number (0 when empty).
    pub fn last(&self) -> u64 {
        self.last
    }
}

/// Reads the journal at `path` and verifies it as `server`'s; a missing file is an empty
/// journal. Fails on the first line that does not hold, naming it.
pub fn read_verified(path: &Path, server: Uuid) -> Result<Verified, JournalError> {
    read_verified_after(path, server, 0)
}

/// [`read_verified`], keeping only the entries after `after` (every line is still verified):
/// memory grows with what a replay applies, not with the journal.
pub fn read_verified_after(
    path: &Path,
    server: Uuid,
    after: u64,
) -> Result<Verified, JournalError> {
    let io = |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut reader = match std::fs::File::open(path) {
        Ok(file) => BufReader::new(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Verified {
                entries: Vec::new(),
                partial_tail: false,
                last: 0,
            })
        }
        Err(e) => return Err(io(e)),
    };
    let mut prev = GENESIS_HASH.to_string();
    let mut entries = Vec::new();
    let mut text = Vec::new();
    let mut line = 0u64;
    let mut partial_tail = false;
    loop {
        text.clear();
        if reader.read_until(b'\n', &mut text).map_err(io)? == 0 {
            break;
        }
        if text.pop() != Some(b'\n') {
            // After the last newline: a line a crash cut short (never acknowledged).
            partial_tail = true;
            tracing::warn!(
                path = %path.display(),
                "admin journal: a partial last line (a crash mid-append) is ignored"
            );
            break;
        }
        line += 1;
        let broken = |reason| JournalError::Broken { line, reason };
        let entry: Entry =
            serde_json::from_slice(&text).map_err(|_| broken("not a journal entry"))?;
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
        if entry.n > after {
            entries.push((entry, action));
        }
    }
    Ok(Verified {
        entries,
        partial_tail,
        last: line,
    })
}
