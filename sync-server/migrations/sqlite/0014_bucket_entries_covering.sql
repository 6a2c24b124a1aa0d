-- A pull reads a bucket's entries in order of change number (issue 13): the index by bucket
-- and number now carries each entry's item, kind and kind of record, so the read takes them
-- from the index and no longer looks every entry up in the table as well.
DROP INDEX bucket_entries_by_seq;
CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq, item, kind, entity);
