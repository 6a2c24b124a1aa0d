-- The authorisation table (issue 11): a record a device deletes reaches devices as a tombstone,
-- while the server keeps its content here, never served, until an admin erasure or its review
-- date (`pocketbook-server purge-reviewed`).
CREATE TABLE retained (
    record_id  TEXT PRIMARY KEY,
    entity     TEXT NOT NULL,
    fields     TEXT NOT NULL,
    versions   TEXT NOT NULL,
    review_due TEXT NOT NULL,
    deleted_at TEXT NOT NULL
);
CREATE INDEX retained_by_review_due ON retained (review_due);
