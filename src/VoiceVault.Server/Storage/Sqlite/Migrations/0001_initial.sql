-- The schema the embedded vault had before migrations were versioned: IF NOT EXISTS, so a
-- database created by an earlier VoiceVault adopts version 1 unchanged.
CREATE TABLE IF NOT EXISTS accounts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    parent_sid TEXT NULL REFERENCES accounts(sid),
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    friendly_name TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS public_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    friendly_name TEXT NOT NULL,
    spki BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS public_keys_account ON public_keys(account_sid, seq);
CREATE TABLE IF NOT EXISTS recordings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    call_sid TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code INTEGER NULL,
    channels INTEGER NOT NULL,
    source TEXT NOT NULL,
    track TEXT NOT NULL,
    start_time TEXT NOT NULL,
    duration INTEGER NULL,
    media_key TEXT NULL,
    media_size INTEGER NULL,
    key_mode TEXT NULL,
    public_key_sid TEXT NULL,
    encrypted_cek BLOB NULL,
    iv BLOB NULL,
    server_cek_sealed BLOB NULL,
    callback_url TEXT NULL,
    callback_method TEXT NOT NULL,
    callback_events TEXT NOT NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS recordings_account ON recordings(account_sid, seq);
CREATE INDEX IF NOT EXISTS recordings_call ON recordings(account_sid, call_sid, seq);
CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY,
    heartbeat_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recording_owners (
    recording_sid TEXT PRIMARY KEY,
    instance TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    call_sid TEXT NULL,
    error_code INTEGER NOT NULL,
    log INTEGER NOT NULL,
    message_text TEXT NOT NULL,
    request_method TEXT NULL,
    request_url TEXT NULL,
    date_created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_account ON notifications(account_sid, seq);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid TEXT NOT NULL,
    recording_sid TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT NULL,
    last_error TEXT NULL,
    date_created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS encryption_settings (
    account_sid TEXT PRIMARY KEY REFERENCES accounts(sid),
    enabled INTEGER NOT NULL,
    public_key_sid TEXT NULL,
    date_updated TEXT NOT NULL);
