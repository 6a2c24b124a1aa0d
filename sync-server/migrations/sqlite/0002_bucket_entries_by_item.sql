-- Looking a record's entries up by item (which buckets hold it) must not scan.
CREATE INDEX bucket_entries_by_item ON bucket_entries (item);
