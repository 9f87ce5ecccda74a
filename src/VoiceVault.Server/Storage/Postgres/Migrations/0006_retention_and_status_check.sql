-- Retention: when a recording is deleted by policy and until when
-- nobody may delete it. Both are set when the recording completes; null means no such date.
ALTER TABLE recordings ADD COLUMN delete_after timestamptz NULL;
ALTER TABLE recordings ADD COLUMN retain_until timestamptz NULL;
-- The statuses are held by the CHECK of migration 0001 (SQLite's 0006 adds the same as triggers);
-- both are tested against the one table of statuses in Core/Spelling.cs.
