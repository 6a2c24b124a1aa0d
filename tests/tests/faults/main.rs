//! Issue 12's end-to-end suites, "nothing lost under faults", in one test binary: each part
//! (forks, restore, compaction and resync, the seeded simulation) is a module.

mod simulation;
