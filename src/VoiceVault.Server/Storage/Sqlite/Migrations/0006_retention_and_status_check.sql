-- Retention: when a recording is deleted by policy and until when
-- nobody may delete it. Both are set when the recording completes; null means no such date.
ALTER TABLE recordings ADD COLUMN delete_after TEXT NULL;
ALTER TABLE recordings ADD COLUMN retain_until TEXT NULL;
-- The statuses PostgreSQL's CHECK allows, held to the same list here (SQLite cannot add a CHECK to a
-- table that exists; these triggers refuse the same rows). Both lists are tested against the one
-- table of statuses in Core/Spelling.cs.
CREATE TRIGGER recordings_status_insert BEFORE INSERT ON recordings
WHEN NEW.status NOT IN ('processing', 'in-progress', 'paused', 'completed', 'absent', 'failed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: recordings.status'); END;
CREATE TRIGGER recordings_status_update BEFORE UPDATE OF status ON recordings
WHEN NEW.status NOT IN ('processing', 'in-progress', 'paused', 'completed', 'absent', 'failed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: recordings.status'); END;
