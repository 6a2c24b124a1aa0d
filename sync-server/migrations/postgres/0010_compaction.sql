-- Compaction and resync (issue 12). `seq_times` notes when change numbers were committed (one
-- row a push: its last number and the time), so compaction can tell which changes are older
-- than its horizon. `tombstones` is what stays for ever of a deleted record whose history was
-- compacted: its id, kind and the version of its delete, so a late edit or create of it is
-- refused `record_deleted`. `bucket_horizons` holds each bucket's highest compacted change: a
-- cursor below it has missed a dropped entry and must pull the bucket again from 0.
CREATE TABLE seq_times (seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL);
CREATE TABLE tombstones (
    id              TEXT PRIMARY KEY,
    entity          TEXT NOT NULL,
    deleted_version TEXT NOT NULL
);
CREATE TABLE bucket_horizons (bucket TEXT PRIMARY KEY, seq BIGINT NOT NULL);
-- A device pulling a bucket from 0 after its history was compacted: the cursor its current
-- pass reached (below the horizon, so it is told apart from a cursor that missed a change).
CREATE TABLE resync_passes (
    device_id TEXT NOT NULL,
    bucket    TEXT NOT NULL,
    cursor    BIGINT NOT NULL,
    PRIMARY KEY (device_id, bucket)
);
