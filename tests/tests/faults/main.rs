//! Issue 12's end-to-end suites, "nothing lost under faults", in one test binary (each test
//! binary costs a link of the whole workspace): one module per part.

mod fork;
mod journal;
mod kill;
mod restore;
mod restore_lost;
mod restore_sight;
mod resync;
mod simulation;
