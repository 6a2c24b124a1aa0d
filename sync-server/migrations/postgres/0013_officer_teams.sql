-- Each officer's current teams beside the officer's document (issue 13): a device's reference
-- data names its teams' officers, and reading them by team costs the team's size, where
-- decoding every officer's document cost the whole force's on every sync. Kept in step with
-- the document wherever an officer is added or changed.
CREATE TABLE officer_teams (
    officer_id TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    PRIMARY KEY (officer_id, team_id)
);
CREATE INDEX officer_teams_by_team ON officer_teams (team_id, officer_id);
INSERT INTO officer_teams (officer_id, team_id)
    SELECT DISTINCT o.id, t.value
    FROM officers o, jsonb_array_elements_text((o.data::jsonb) -> 'team_ids') AS t(value);
