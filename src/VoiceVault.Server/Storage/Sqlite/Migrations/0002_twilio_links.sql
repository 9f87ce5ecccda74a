-- The Twilio account whose calls a vault account records, with its auth tokens sealed.
CREATE TABLE twilio_links (
    account_sid TEXT PRIMARY KEY REFERENCES accounts(sid),
    twilio_account_sid TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
    secondary_token_sealed BLOB NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL);
