//! The record operations of the public API, one file per kind of record, all built on the
//! store's single change-capture path.

mod actions;
pub mod chronology;
mod concerns;
mod conflicts;
mod context;
mod engagements;
mod refusals;
mod visits;
mod young_people;

pub(crate) use context::WriteContext;
