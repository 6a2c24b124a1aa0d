//! The server's wall time as its tables store it, read from the store's [`Sources`] so a test
//! or a simulation can fix it. Pure formatting; no IO beyond reading the sources.

use pocketbook_protocol::sources::Sources;

/// Now, as stored in text columns (RFC 3339).
pub fn now_text(sources: &dyn Sources) -> String {
    sources.now().to_rfc3339()
}

/// Now, in milliseconds since the epoch, as stored in integer columns.
pub fn now_ms(sources: &dyn Sources) -> i64 {
    sources.now().timestamp_millis()
}
