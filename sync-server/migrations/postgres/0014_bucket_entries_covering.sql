-- A pull reads a bucket's entries in order of change number (issue 13): the index by bucket
-- and number now carries each entry's item, kind and kind of record, so the read can take them
-- from the index (an index-only scan where the table's pages are all visible). The same
-- columns as SQLite's, which has no INCLUDE.
DROP INDEX bucket_entries_by_seq;
CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq, item, kind, entity);
