-- Several instances: where each live call streams, and the address other instances reach that
-- instance at, so that recording control sent to any instance is carried out by the right one.
ALTER TABLE instances ADD COLUMN address TEXT NULL;
CREATE TABLE live_calls (
    account_sid TEXT NOT NULL,
    call_sid TEXT NOT NULL,
    instance TEXT NOT NULL,
    PRIMARY KEY (account_sid, call_sid));
