-- The first step once created `change_seq`, a sequence only a test used (to show the hazard
-- of a plain sequence, tests/tests/pg_no_skipped_pull.rs, which now creates its own). Drop it
-- where an older server made it.
DROP SEQUENCE IF EXISTS change_seq;
