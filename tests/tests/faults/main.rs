//! Nothing lost under faults (issue 12), as one test binary so the suites link once: real
//! processes killed mid-sync.

mod kill;
