-- As PostgreSQL's 0008.
-- The audit trail (docs/audit.md): one hash chain per account. A sequence exists once per chain
-- (the primary key): a writer that computed a sequence another already took fails instead of
-- forking the chain. audit_heads holds each chain's last sequence and hash; appending locks it.
-- date_created is kept as served (yyyy-MM-ddTHH:mm:ss.fffZ), the text the hash covers.
CREATE TABLE audit_heads (
    account_sid TEXT PRIMARY KEY REFERENCES accounts(sid),
    sequence INTEGER NOT NULL,
    hash TEXT NOT NULL);

CREATE TABLE audit_events (
    account_sid TEXT NOT NULL REFERENCES accounts(sid),
    sequence INTEGER NOT NULL,
    sid TEXT NOT NULL UNIQUE,
    date_created TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_sid TEXT NULL,
    resource_sid TEXT NULL,
    source_ip TEXT NULL,
    request_id TEXT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (account_sid, sequence));
CREATE INDEX audit_events_resource ON audit_events (account_sid, resource_sid, sequence);
CREATE INDEX audit_events_date ON audit_events (account_sid, date_created);
