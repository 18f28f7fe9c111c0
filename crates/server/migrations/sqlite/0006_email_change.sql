-- Changing the registered email: by a token proof, or at the support desk after the
-- documents are checked (an agent proposes, a supervisor approves). A change is
-- confirmed from the new address, told to the old one (which can cancel it), and takes
-- effect after a waiting period. Links are kept only as hashes; of an identity card only
-- its type and last 4 digits.
CREATE TABLE email_changes (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    reference          TEXT    NOT NULL,
    account_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    old_email          TEXT    NOT NULL,
    new_email          TEXT    NOT NULL,
    via                TEXT    NOT NULL,   -- token | desk
    state              TEXT    NOT NULL,   -- proposed | confirming | waiting | applied | cancelled | superseded
    created_at         INTEGER NOT NULL,
    confirm_hash       TEXT    UNIQUE,
    confirm_expires_at INTEGER,
    confirmed_at       INTEGER,
    cancel_hash        TEXT    UNIQUE,
    effective_at       INTEGER,
    ended_at           INTEGER,
    ended_by           TEXT,
    cert_fingerprint   TEXT,
    proposed_by        TEXT,
    approved_by        TEXT,
    verification       TEXT
);
CREATE INDEX email_changes_account ON email_changes (account_id, state);
CREATE INDEX email_changes_due ON email_changes (state, effective_at);
-- agent: verifies callers, proposes; supervisor: also approves what another proposed.
ALTER TABLE staff ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';
