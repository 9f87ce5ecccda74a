-- The web console's sign-in sessions. The cookie holds a random token; only its SHA-256 is kept
-- here, so a copy of the database opens no session. A session dies when it is signed out, idle or
-- old (checked on every use), or when the account it belongs to is no longer active or the API
-- key it was opened with is deleted.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    api_key_sid TEXT NULL,
    csrf_token TEXT NOT NULL,
    date_created TEXT NOT NULL,
    last_seen TEXT NOT NULL);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
-- The console warns how many recordings still need a key before it is deleted.
CREATE INDEX recordings_public_key ON recordings (public_key_sid);
