-- The first schema, as shipped. Indented as it was in the server's source: SQLite keeps the
-- text of each CREATE, so a fresh database matches one an older server made byte for byte.
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('change', 0);
    CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE officers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE establishments (urn TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    CREATE TABLE enrol_codes (
        code_hash  TEXT PRIMARY KEY,
        officer_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    );
    CREATE TABLE enrol_attempts (client TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX enrol_attempts_by_client ON enrol_attempts (client, at);
    CREATE TABLE devices (
        device_id    TEXT PRIMARY KEY,
        officer_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        last_sync_at TEXT,
        revoked_at   TEXT,
        high_water   INTEGER NOT NULL DEFAULT 0,
        audit_seq    INTEGER NOT NULL DEFAULT 0,
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
        deleted    INTEGER NOT NULL
    );
    CREATE TABLE conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL,
        resolved  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conflicts_by_record ON conflicts (record_id);
    CREATE TABLE bucket_entries (
        bucket TEXT NOT NULL,
        item   TEXT NOT NULL,
        kind   TEXT NOT NULL,
        entity TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        PRIMARY KEY (bucket, item)
    );
    CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq);
    CREATE TABLE quarantine (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        code      TEXT NOT NULL,
        mutation  TEXT NOT NULL
    );
    CREATE TABLE device_audit (
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        event     TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        operation TEXT NOT NULL,
        officer_id TEXT,
        device_id TEXT,
        detail    TEXT NOT NULL
    );
