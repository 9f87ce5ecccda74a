-- As PostgreSQL's 0009.
-- The audit trail's signatures and counts (docs/audit.md).
-- audit_signing_keys: the ECDSA P-256 keys checkpoints are signed with; the private key sealed
-- under the master key. One key is active; rotation retires it and keeps it listed.
CREATE TABLE audit_signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    private_key_sealed BLOB NOT NULL,
    date_created TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')));
CREATE UNIQUE INDEX audit_signing_keys_one_active ON audit_signing_keys (status) WHERE status = 'active';

-- Signed checkpoints: a chain's sequence and hash at a moment, signed. One per sequence. The
-- witness columns make the table the witness's outbox: pending until the witness took it,
-- claimed by moving witness_next_at past a lease, retried with growing delays.
CREATE TABLE audit_checkpoints (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    sequence INTEGER NOT NULL,
    hash TEXT NOT NULL,
    date_created TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES audit_signing_keys(key_id),
    signature TEXT NOT NULL,
    witness_status TEXT NOT NULL CHECK (witness_status IN ('none', 'pending', 'delivered')),
    witness_attempts INTEGER NOT NULL DEFAULT 0,
    witness_next_at TEXT NULL,
    witness_error TEXT NULL,
    UNIQUE (account_sid, sequence));
CREATE INDEX audit_checkpoints_witness ON audit_checkpoints (witness_next_at) WHERE witness_status = 'pending';

-- A pruned chain starts at its anchor: the checkpoint its oldest kept event follows.
ALTER TABLE audit_heads ADD COLUMN anchor_sequence INTEGER NOT NULL DEFAULT 0;

-- Failed authentications, counted per window (a minute), credential and client address by every
-- instance, until one of them turns a closed window into auth.failed events.
CREATE TABLE auth_failures (
    window_start TEXT NOT NULL,
    account_sid TEXT NOT NULL,
    credential_sid TEXT NOT NULL,
    address TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (window_start, account_sid, credential_sid, address));

-- An API key's role: full (the default), or auditor — reads the audit trail and metadata of its
-- account's tree, nothing else (docs/audit.md).
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'full' CHECK (role IN ('full', 'auditor'));
