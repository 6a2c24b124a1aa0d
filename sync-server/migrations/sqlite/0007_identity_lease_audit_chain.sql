-- Issue 11 (identity, leases, the server's audit chain).
-- A device's lease end (ms since the epoch; NULL: none recorded yet, renewed at its next sync).
ALTER TABLE devices ADD COLUMN lease_until INTEGER;
-- Hashes of the tokens a device held before its current one: proof of possession when it
-- re-authenticates (a lost answer leaves a device holding its previous token).
CREATE TABLE device_tokens (
    token_hash TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL,
    retired_at TEXT NOT NULL
);
CREATE INDEX device_tokens_by_device ON device_tokens (device_id);
-- The server audit log becomes a hash chain: rows written from now on carry their place in the
-- chain, the admin who acted (admin commands) and the hashes; older rows stay unchained.
ALTER TABLE audit ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit ADD COLUMN actor TEXT;
ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_by_chain_seq ON audit (chain_seq);
-- The chain's head: one row, whose lock serialises every writer of the chain.
CREATE TABLE audit_chain (
    id   INTEGER PRIMARY KEY,
    seq  INTEGER NOT NULL,
    head TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, head)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
