//! Who may do what (issue 11), as one test binary so the suite links once: the authorisation
//! table against a real server, scope following the record on raw pull bodies, enrolment that
//! cannot take a device, leases on the server and the device, the device's transport,
//! PostgreSQL over TLS and the server's chained audit log.

mod authorisation_table;
mod lease_device;
mod lease_server;
mod pg_tls;
mod remove_while_pending;
mod scope_follows_record;
mod server_audit_chain;
mod takeover;
mod transport_device;
