-- The limiter's counts for a cluster (PostgreSQL's migration 0007). The embedded vault is one
-- process and counts in its memory (Core/Limits.cs, LocalLimits); the tables exist so that both
-- backends have one schema (copy-to-postgres compares them) and stay empty here.
CREATE TABLE limit_buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at TEXT NOT NULL,
    refills_in TEXT NOT NULL);

CREATE TABLE limit_remembered (
    key TEXT PRIMARY KEY,
    until TEXT NOT NULL);

CREATE TABLE limit_slots (
    holder TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    instance TEXT NOT NULL);
CREATE INDEX limit_slots_key ON limit_slots(key);
