-- Re-wrapping (docs/api.md §7a): every wrap a recording's CEK has been given, once it has more than the
-- first. The recording's own row keeps the newest (what encryption_details shows, and what
-- EncryptionPublicKeySid filters on); the first re-wrap files the original here too.
CREATE TABLE recording_wraps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    recording_sid TEXT NOT NULL,
    public_key_sid TEXT NULL,
    encrypted_cek BLOB NOT NULL,
    date_created TEXT NOT NULL);
CREATE INDEX recording_wraps_recording ON recording_wraps (recording_sid, seq);
