-- Pruning old enrolment attempts (`DELETE ... WHERE at < ?`) must not scan. PostgreSQL
-- shipped this index in its first step; this step only keeps the numbering of SQLite's.
CREATE INDEX IF NOT EXISTS enrol_attempts_by_at ON enrol_attempts (at);
