-- The buckets a record has left while devices were still reconciling with a restored server
-- (issue 12): a device may restore what it acknowledged of a record its officer could see
-- when the restore window opened, though a later marking raise or team change has taken the
-- record out of the officer's sight. Emptied by each new epoch, added to by every record
-- leaving a bucket while a device still reconciles.
CREATE TABLE restore_places (
    record_id TEXT NOT NULL,
    bucket    TEXT NOT NULL,
    PRIMARY KEY (record_id, bucket)
);
