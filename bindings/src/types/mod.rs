//! FFI-safe mirrors of the core's records and enumerations, converted with `From` both ways,
//! one file per kind of record. This file holds what they all share: the custom types (ids
//! cross as strings of UUID text, instants as timestamps, dates as `YYYY-MM-DD` strings) and
//! the two macros that mirror a core enumeration.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::{PocketbookError, Result};

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});

/// An instant (UTC); `java.time.Instant` in Kotlin, `Date` in Swift, `datetime` in Python.
pub type Timestamp = DateTime<Utc>;

uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |t| t.into(),
    try_lift: |t| Ok(DateTime::<Utc>::from(t)),
});

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |text| Ok(NaiveDate::parse_from_str(&text, "%Y-%m-%d")?),
});

/// Mirrors a core enumeration variant for variant, with `From` both ways.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident = $core:ty { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($(#[$vdoc])* $v),+ }
        impl From<$core> for $name {
            fn from(x: $core) -> Self { match x { $(<$core>::$v => $name::$v),+ } }
        }
        impl From<$name> for $core {
            fn from(x: $name) -> Self { match x { $($name::$v => <$core>::$v),+ } }
        }
    };
}

/// Mirrors an open core enumeration (one a newer peer may extend): every known variant, plus
/// `Unknown` for a value this build cannot name. `Unknown` is for reading only; a draft that
/// holds it is refused as invalid input.
macro_rules! mirror_open_enum {
    ($(#[$doc:meta])* $name:ident = $core:ty { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $($(#[$vdoc])* $v,)+
            /// A value written by a newer app or server that this build cannot name. Shown as
            /// unknown; never written.
            Unknown,
        }
        impl From<$core> for $name {
            fn from(x: $core) -> Self {
                match x { $(<$core>::$v => $name::$v,)+ _ => $name::Unknown }
            }
        }
        impl From<$name> for $core {
            fn from(x: $name) -> Self {
                match x {
                    $($name::$v => <$core>::$v,)+
                    $name::Unknown => <$core>::Unknown(String::new()),
                }
            }
        }
    };
}

pub(crate) use mirror_enum;

// The files below use the macros above (textual scope: they must come after them).
mod action;
mod chronology;
mod concern;
mod engagement;
mod reference;
mod sync;
mod visit;
mod young_person;

pub use action::*;
pub use chronology::*;
pub use concern::*;
pub use engagement::*;
pub use reference::*;
pub use sync::*;
pub use visit::*;
pub use young_person::*;

/// Maps a list of core values.
pub(crate) fn list<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(Into::into).collect()
}

/// A 32-byte key from the bytes the host app holds.
pub(crate) fn key(bytes: &[u8]) -> Result<pocketbook_core::StoreKey> {
    pocketbook_core::StoreKey::from_bytes(bytes).map_err(|_| PocketbookError::InvalidInput {
        field: "key".into(),
        reason: "the key must be exactly 32 bytes".into(),
    })
}
