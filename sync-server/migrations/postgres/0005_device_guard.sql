-- The server guard (issue 10): a device past its cap of refused mutations or audit rows is
-- suspended until an admin lifts it; lifting moves the floors, so only what comes after counts.
ALTER TABLE devices ADD COLUMN suspended_at TEXT;
ALTER TABLE devices ADD COLUMN quarantine_floor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN audit_floor BIGINT NOT NULL DEFAULT 0;
CREATE INDEX quarantine_by_device ON quarantine (device_id, id);
