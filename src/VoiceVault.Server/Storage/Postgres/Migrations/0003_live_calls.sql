-- Several instances: where each live call streams, and the address other instances reach that
-- instance at, so that recording control sent to any instance is carried out by the right one.
ALTER TABLE instances ADD COLUMN address text NULL;
CREATE TABLE live_calls (
    account_sid text NOT NULL,
    call_sid text NOT NULL,
    instance text NOT NULL,
    PRIMARY KEY (account_sid, call_sid));
