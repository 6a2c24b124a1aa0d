//! Nothing lost under faults (issue 12), as one test binary so its suites link once: each
//! module is one part's end-to-end suite against real stores and a real server.

mod resync;
