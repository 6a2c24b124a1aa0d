//! Nothing lost under faults (issue 12), as one test binary so the suites link once: forks of
//! a device store.

mod fork;
