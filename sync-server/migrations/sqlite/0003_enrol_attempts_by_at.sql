-- Pruning old enrolment attempts (`DELETE ... WHERE at < ?`) must not scan. PostgreSQL had
-- this index from its first step; SQLite lacked it.
CREATE INDEX enrol_attempts_by_at ON enrol_attempts (at);
