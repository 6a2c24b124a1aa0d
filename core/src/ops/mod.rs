//! The record operations of the public API, one file per kind of record, all built on the
//! store's single change-capture path.

pub mod chronology;
mod concerns;
mod conflicts;
mod context;

pub(crate) use context::WriteContext;
mod others;
mod visits;
mod young_people;
