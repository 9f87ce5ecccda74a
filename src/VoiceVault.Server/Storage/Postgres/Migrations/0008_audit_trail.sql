-- The audit trail (docs/audit.md): one hash chain per account. A sequence exists once per chain
-- (the primary key): a writer that computed a sequence another already took fails instead of
-- forking the chain. audit_heads holds each chain's last sequence and hash; appending locks it.
-- date_created is kept as served (yyyy-MM-ddTHH:mm:ss.fffZ), the text the hash covers.
CREATE TABLE audit_heads (
    account_sid text PRIMARY KEY REFERENCES accounts(sid),
    sequence bigint NOT NULL,
    hash text NOT NULL);

CREATE TABLE audit_events (
    account_sid text NOT NULL REFERENCES accounts(sid),
    sequence bigint NOT NULL,
    sid text NOT NULL UNIQUE,
    date_created text NOT NULL,
    action text NOT NULL,
    actor_type text NOT NULL,
    actor_sid text NULL,
    resource_sid text NULL,
    source_ip text NULL,
    request_id text NULL,
    outcome text NOT NULL,
    details text NOT NULL,
    previous_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (account_sid, sequence));
CREATE INDEX audit_events_resource ON audit_events (account_sid, resource_sid, sequence);
CREATE INDEX audit_events_date ON audit_events (account_sid, date_created);
