//! The key file: 64 hex digits, written once with owner-only permissions. On a phone the key
//! lives in the Keystore or Keychain instead; the shell keeps it in a file beside the store.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use pocketbook_core::StoreKey;

use crate::CliError;

/// Reads the key from `path`.
pub fn read(path: &Path) -> Result<StoreKey, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
        what: format!("cannot read key file {}", path.display()),
        source,
    })?;
    StoreKey::from_hex(&text).map_err(|_| {
        CliError::Usage(format!(
            "key file {} does not hold 64 hex digits",
            path.display()
        ))
    })
}

/// Writes a new random key to `path`, which must not exist yet; owner read/write only.
pub fn create(path: &Path) -> Result<StoreKey, CliError> {
    let key = StoreKey::generate();
    let hex = key
        .to_hex()
        .ok_or_else(|| CliError::Usage("this key cannot be written to a file".to_string()))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let fail = |source| CliError::File {
        what: format!("cannot create key file {}", path.display()),
        source,
    };
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(hex.as_bytes()).map_err(fail)?;
    file.write_all(b"\n").map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok(key)
}
