-- The limiter's counts, shared by every instance (Storage/Postgres/PostgresLimits.cs): token
-- buckets of failed authentications (by client address and by account or API key), addresses an
-- account signed in from lately, and the upload and stream slots each account holds open. Rows
-- describe the last minutes only and are swept as they stop mattering.
CREATE TABLE limit_buckets (
    key text PRIMARY KEY,
    tokens double precision NOT NULL,
    at timestamptz NOT NULL,
    refills_in interval NOT NULL);

CREATE TABLE limit_remembered (
    key text PRIMARY KEY,
    until timestamptz NOT NULL);

CREATE TABLE limit_slots (
    holder text PRIMARY KEY,
    key text NOT NULL,
    instance text NOT NULL);
CREATE INDEX limit_slots_key ON limit_slots(key);
