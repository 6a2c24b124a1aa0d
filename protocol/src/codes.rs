//! The machine codes both sides must agree on: every error code the server answers with
//! ([`ErrorCode`], in [`ErrorBody`](crate::wire::ErrorBody)) and every reason it refuses one
//! mutation of a push ([`RejectCode`], in `PushOutcome::Rejected`). Spelled once, here; a code
//! a newer peer adds decodes to `Unknown`.

crate::open_enum! {
    /// Why the server refused a whole request: the `code` of every error body.
    pub enum ErrorCode {
        /// No token, or a token the server does not know (401).
        Unauthorized = "unauthorized",
        /// The device was revoked and must wipe itself (401).
        DeviceRevoked = "device_revoked",
        /// The enrolment code is unknown, used or expired (403).
        InvalidCode = "invalid_code",
        /// Too many enrolment attempts from one place (429).
        RateLimited = "rate_limited",
        /// The request names a protocol version the server does not speak (426).
        UpgradeRequired = "upgrade_required",
        /// The body is larger than the server accepts (413); the device splits its batch.
        TooLarge = "too_large",
        /// No such endpoint (404).
        NotFound = "not_found",
        /// A mutation is stamped too far ahead of the server's clock (409); the body carries
        /// the server's time.
        ClockSkew = "clock_skew",
        /// The server's database does not answer (503).
        Unavailable = "unavailable",
        /// The server failed inside; details are in its log, not the answer (500).
        Internal = "internal",
        /// The request has no protocol version header (400).
        MissingProtocol = "missing_protocol",
        /// The body is not JSON of the expected shape (400).
        InvalidJson = "invalid_json",
        /// The request is well-formed JSON but asks for something impossible (400).
        InvalidRequest = "invalid_request",
        /// The push does not hang together, e.g. its audit chain does not verify (400).
        InvalidPush = "invalid_push",
        /// The push's first new mutation is not the device's high-water mark + 1 (409);
        /// nothing was applied.
        SeqGap = "seq_gap",
        /// The device passed a cap (quarantined mutations, audit rows) and is suspended until
        /// an admin looks at it (403).
        DeviceSuspended = "device_suspended",
        /// The body's encoding is not one the server reads (415).
        UnsupportedMediaType = "unsupported_media_type",
        /// The server is at its limit of concurrent requests (503, with `Retry-After`).
        Busy = "busy",
        /// The request took too long to arrive or to answer (408).
        Timeout = "timeout",
        /// Enrolment named a device id the server already holds, without proving possession
        /// of that device's current or lapsed token (409). Nothing changed.
        DeviceTaken = "device_taken",
        /// The device's lease lapsed (401): pulls and conflict reads wait for
        /// `reauthenticate(code)`; pushes are still taken for the grace period. Never a wipe.
        LeaseExpired = "lease_expired",
        /// The push resends a position (mutation seq or audit event) the server already holds
        /// with different content: a cloned or restored phone (409). Nothing was applied; the
        /// body's `position` is the longest prefix the server holds as sent. The device
        /// re-enrols as a new device id and resends the rest under it.
        DeviceForked = "device_forked",
        /// The request names an epoch the server no longer has: it was restored from a backup
        /// (409). The device pulls every bucket from 0 and sends `restore` mutations before
        /// pushing anything else; the body carries the new `epoch` and the server's `position`
        /// for this device.
        EpochChanged = "epoch_changed",
        /// A cursor is older than what the server compacted (410): the device pulls the
        /// buckets the body names again from 0, keeping its outbox.
        ResyncRequired = "resync_required",
        /// The server was restored and waits for the admin actions since the backup to be
        /// replayed (or an admin to confirm there were none) before it serves (503).
        RestorePending = "restore_pending",
    }
}

crate::open_enum! {
    /// Why the server refused one mutation of a push. The mutation is quarantined on the
    /// server and never applied; the device lists it for the officer.
    pub enum RejectCode {
        /// The record is not valid, or its id belongs to another kind of record.
        InvalidRecord = "invalid_record",
        /// The officer may not make this change to this record.
        Forbidden = "forbidden",
        /// The change touches a concern's account, which is fixed once submitted.
        AccountImmutable = "account_immutable",
        /// An update or delete of a record the server has never held.
        UnknownRecord = "unknown_record",
        /// The officer may not write into the record's team.
        ForbiddenBucket = "forbidden_bucket",
        /// The record uses a choice, field or kind this server does not know yet (a newer
        /// app). The device keeps the mutation and resends it once the server is upgraded.
        ServerTooOld = "server_too_old",
        /// The record or one of its fields is over a limit (text length, set elements,
        /// record size).
        TooLarge = "too_large",
        /// The mutation's version is not one this device may stamp: another node's, or a
        /// counter above the bound.
        InvalidVersion = "invalid_version",
        /// The change touches what is fixed once written: an addendum, a record's authorship
        /// (`created_by`, `created_at`, team), or an entry already in a concern's triage
        /// history.
        Immutable = "immutable",
        /// A delete of a young person whom another record still names.
        InUse = "in_use",
        /// The change needs a reason (`Mutation::reason`) and carries none: a visit's delete,
        /// a correction of a concern's linked child.
        ReasonRequired = "reason_required",
        /// An edit or create of a record the server holds only as a tombstone: it was deleted
        /// and its history compacted. Nothing to resend.
        RecordDeleted = "record_deleted",
        /// A `restore` mutation for a record the pushing device could not see, or from a
        /// device that is not reconciling after a restore.
        RestoreRefused = "restore_refused",
    }
}

#[cfg(feature = "openapi")]
crate::open_enum::open_enum_schema!(ErrorCode, RejectCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_wire_names_and_unknown_codes_decode() {
        assert_eq!(ErrorCode::DeviceRevoked.as_str(), "device_revoked");
        assert_eq!(RejectCode::ForbiddenBucket.as_str(), "forbidden_bucket");
        let later: ErrorCode = serde_json::from_str("\"moon_phase\"").unwrap();
        assert_eq!(later, ErrorCode::Unknown("moon_phase".into()));
        let later: RejectCode = serde_json::from_str("\"superseded\"").unwrap();
        assert!(!later.is_known());
    }

    #[test]
    fn no_two_codes_share_a_wire_name() {
        let names: std::collections::BTreeSet<&str> =
            ErrorCode::KNOWN.iter().map(ErrorCode::as_str).collect();
        assert_eq!(names.len(), ErrorCode::KNOWN.len());
        let names: std::collections::BTreeSet<&str> =
            RejectCode::KNOWN.iter().map(RejectCode::as_str).collect();
        assert_eq!(names.len(), RejectCode::KNOWN.len());
    }
}
