-- The first schema, as shipped, but for one statement: it also made `change_seq`, a sequence
-- only a test used (tests/tests/pg_no_skipped_pull.rs now makes its own); step 4 drops it
-- from databases that have it.
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO counters VALUES ('change', 0);
    CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE officers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE establishments (urn TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    CREATE TABLE enrol_codes (
        code_hash  TEXT PRIMARY KEY,
        officer_id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at    BIGINT
    );
    CREATE TABLE enrol_attempts (client TEXT NOT NULL, at BIGINT NOT NULL);
    CREATE INDEX enrol_attempts_by_client ON enrol_attempts (client, at);
    CREATE INDEX enrol_attempts_by_at ON enrol_attempts (at);
    CREATE TABLE devices (
        device_id    TEXT PRIMARY KEY,
        officer_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        last_sync_at TEXT,
        revoked_at   TEXT,
        high_water   BIGINT NOT NULL DEFAULT 0,
        audit_seq    BIGINT NOT NULL DEFAULT 0,
        audit_head   TEXT NOT NULL
    );
    CREATE TABLE records (
        id         TEXT PRIMARY KEY,
        entity     TEXT NOT NULL,
        team_id    TEXT NOT NULL,
        marking    TEXT NOT NULL,
        created_by TEXT NOT NULL,
        fields     TEXT NOT NULL,
        versions   TEXT NOT NULL,
        deleted    BOOLEAN NOT NULL
    );
    CREATE TABLE conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL,
        resolved  BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX conflicts_by_record ON conflicts (record_id);
    CREATE TABLE bucket_entries (
        bucket TEXT NOT NULL,
        item   TEXT NOT NULL,
        kind   TEXT NOT NULL,
        entity TEXT NOT NULL,
        seq    BIGINT NOT NULL,
        PRIMARY KEY (bucket, item)
    );
    CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq);
    CREATE INDEX bucket_entries_by_item ON bucket_entries (item);
    CREATE TABLE quarantine (
        id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at        TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq       BIGINT NOT NULL,
        code      TEXT NOT NULL,
        mutation  TEXT NOT NULL
    );
    CREATE TABLE device_audit (
        device_id TEXT NOT NULL,
        seq       BIGINT NOT NULL,
        event     TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE audit (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at         TEXT NOT NULL,
        operation  TEXT NOT NULL,
        officer_id TEXT,
        device_id  TEXT,
        detail     TEXT NOT NULL
    );
