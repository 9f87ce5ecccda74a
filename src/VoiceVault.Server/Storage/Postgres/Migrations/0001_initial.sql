-- VoiceVault's metadata on PostgreSQL: the tables of the embedded schema, in PostgreSQL's types.
-- seq is each list's keyset (creation order); sids are Twilio's.
CREATE TABLE accounts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    parent_sid text NULL REFERENCES accounts(sid),
    friendly_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    token_sealed bytea NOT NULL,
    date_created timestamptz NOT NULL,
    date_updated timestamptz NOT NULL);
CREATE INDEX accounts_parent ON accounts(parent_sid, seq);

CREATE TABLE api_keys (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    account_sid text NOT NULL REFERENCES accounts(sid),
    friendly_name text NOT NULL,
    secret_sealed bytea NOT NULL,
    date_created timestamptz NOT NULL,
    date_updated timestamptz NOT NULL);
CREATE INDEX api_keys_account ON api_keys(account_sid, seq);

CREATE TABLE public_keys (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    account_sid text NOT NULL REFERENCES accounts(sid),
    friendly_name text NOT NULL,
    spki bytea NOT NULL,
    fingerprint text NOT NULL,
    date_created timestamptz NOT NULL,
    date_updated timestamptz NOT NULL);
CREATE INDEX public_keys_account ON public_keys(account_sid, seq);

CREATE TABLE recordings (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    account_sid text NOT NULL REFERENCES accounts(sid),
    call_sid text NOT NULL,
    status text NOT NULL CHECK (status IN ('processing', 'in-progress', 'paused', 'completed', 'absent', 'failed')),
    error_code integer NULL,
    channels integer NOT NULL,
    source text NOT NULL,
    track text NOT NULL,
    start_time timestamptz NOT NULL,
    duration integer NULL,
    media_key text NULL,
    media_size bigint NULL,
    key_mode text NULL CHECK (key_mode IN ('customer', 'server')),
    public_key_sid text NULL,
    encrypted_cek bytea NULL,
    iv bytea NULL,
    server_cek_sealed bytea NULL,
    callback_url text NULL,
    callback_method text NOT NULL,
    callback_events text NOT NULL,
    date_created timestamptz NOT NULL,
    date_updated timestamptz NOT NULL);
CREATE INDEX recordings_account ON recordings(account_sid, seq);
CREATE INDEX recordings_call ON recordings(account_sid, call_sid, seq);
CREATE INDEX recordings_unfinished ON recordings(status) WHERE status IN ('processing', 'in-progress', 'paused');

CREATE TABLE instances (
    id text PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL);

CREATE TABLE recording_owners (
    recording_sid text PRIMARY KEY,
    instance text NOT NULL);

CREATE TABLE notifications (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid text NOT NULL UNIQUE,
    account_sid text NOT NULL REFERENCES accounts(sid),
    call_sid text NULL,
    error_code integer NOT NULL,
    log integer NOT NULL,
    message_text text NOT NULL,
    request_method text NULL,
    request_url text NULL,
    date_created timestamptz NOT NULL);
CREATE INDEX notifications_account ON notifications(account_sid, seq);

CREATE TABLE outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_sid text NOT NULL,
    recording_sid text NOT NULL,
    url text NOT NULL,
    method text NOT NULL,
    payload text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at timestamptz NULL,
    last_error text NULL,
    date_created timestamptz NOT NULL);
-- Only undelivered rows are ever scanned for: the index stays the size of the backlog.
CREATE INDEX outbox_due ON outbox(next_attempt_at, seq) WHERE delivered_at IS NULL;

CREATE TABLE encryption_settings (
    account_sid text PRIMARY KEY REFERENCES accounts(sid),
    enabled boolean NOT NULL,
    public_key_sid text NULL,
    date_updated timestamptz NOT NULL);
