-- The teams each officer belonged to at a restore's backup and since (issue 12): a device
-- reconciling with a restored server may restore a record its officer could see at any time
-- since that backup, though an admin has moved the officer since (the move replayed from the
-- admin journal). Filled afresh by each new epoch, added to by every officer added or moved.
CREATE TABLE restore_teams (
    officer_id TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    PRIMARY KEY (officer_id, team_id)
);
