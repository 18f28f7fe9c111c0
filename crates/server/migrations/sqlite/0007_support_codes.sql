-- Support codes: the support report a caller agreed to send, sealed with the outbox key
-- under its code's hash (only the hash of the code is kept), for an hour; and which app
-- instance each audit line came from, so the desk sees that app's attempts.
CREATE TABLE support_reports (
    code_hash   TEXT    PRIMARY KEY,
    instance    TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    key_id      TEXT    NOT NULL,
    reference   TEXT    NOT NULL,
    client_addr TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX support_reports_expires ON support_reports (expires_at);
ALTER TABLE audit ADD COLUMN client_instance TEXT;
CREATE INDEX audit_instance ON audit (client_instance, at);
