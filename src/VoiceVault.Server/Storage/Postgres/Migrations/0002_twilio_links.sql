-- The Twilio account whose calls a vault account records, with its auth tokens sealed.
CREATE TABLE twilio_links (
    account_sid text PRIMARY KEY REFERENCES accounts(sid),
    twilio_account_sid text NOT NULL,
    token_sealed bytea NOT NULL,
    secondary_token_sealed bytea NULL,
    date_created timestamptz NOT NULL,
    date_updated timestamptz NOT NULL);
