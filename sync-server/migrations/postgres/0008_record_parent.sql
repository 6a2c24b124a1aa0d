-- Scope follows the record (issue 11): an addendum or an action names the concern it belongs
-- to, so a change of the concern's marking or team can move them (and their conflicts) with it.
ALTER TABLE records ADD COLUMN parent_id TEXT;
UPDATE records SET parent_id = fields::jsonb ->> 'concern_id'
    WHERE entity IN ('addendum', 'action');
CREATE INDEX records_by_parent ON records (parent_id);
