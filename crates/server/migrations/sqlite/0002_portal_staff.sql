-- Portal recovery (captchas, activation links) and the support desk (staff accounts and
-- their sessions). Portable SQL, as 0001.

-- An image captcha: single use, short-lived. Only a hash of the answer is kept.
CREATE TABLE captchas (
    id          TEXT    PRIMARY KEY,
    answer_hash TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX captchas_expires ON captchas (expires_at);

-- A portal reset waiting for its emailed link: the link's token is kept only as a
-- hash, the pending temporary password only as its argon2id hash. Opening the link
-- moves the hash into the account; a newer request (or a token recovery) supersedes it.
CREATE TABLE activations (
    token_hash         TEXT    PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    temp_password_hash TEXT    NOT NULL,
    temp_expires_at    INTEGER NOT NULL,
    reference          TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER,
    superseded_at      INTEGER
);
CREATE INDEX activations_account ON activations (account_id);

-- Support staff: created by the admin CLI, argon2id password hashes.
CREATE TABLE staff (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

CREATE TABLE staff_sessions (
    token_hash TEXT    PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
