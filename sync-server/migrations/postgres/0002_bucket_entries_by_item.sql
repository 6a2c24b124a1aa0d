-- Looking a record's entries up by item (which buckets hold it) must not scan. PostgreSQL
-- shipped this index in its first step; this step only keeps the numbering of SQLite's.
CREATE INDEX IF NOT EXISTS bucket_entries_by_item ON bucket_entries (item);
