-- Forks detected (issue 12): the digest of every mutation the server took from a device at a
-- seq (applied, merged or refused), so a mutation resent at a seq the server holds is
-- compared instead of answered unread, and answered with the outcome it had then (applied,
-- merged with its conflicts, or refused). Seqs taken before this step have no digest.
CREATE TABLE mutation_digests (
    device_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    digest    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
