//! Nothing lost under faults (issue 12), as one test binary so the suites link once: a server
//! restored from a backup and its devices reconciling.

mod restore;
