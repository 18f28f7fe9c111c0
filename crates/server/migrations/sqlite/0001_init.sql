-- SQLite. INTEGER times in Unix seconds unless named *_ms, TEXT ids. Its PostgreSQL twin
-- (migrations/postgres/) has the same tables and columns; a test compares them.

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT    NOT NULL UNIQUE,
    mst                TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    cert_fingerprint   TEXT,
    password_hash      TEXT,
    temp_password_hash TEXT,
    temp_expires_at    INTEGER,
    temp_used_at       INTEGER,
    temp_reference     TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX accounts_mst ON accounts (mst);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    must_change INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE challenges (
    id         TEXT    PRIMARY KEY,
    username   TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    nonce      TEXT    NOT NULL,
    origin     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    outcome    TEXT
);
CREATE INDEX challenges_expires ON challenges (expires_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL UNIQUE,
    account_id      INTEGER,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    secret          BLOB,
    reference       TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_ms);

CREATE TABLE audit (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    reference        TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    event            TEXT    NOT NULL,
    username         TEXT,
    outcome          TEXT    NOT NULL,
    error_code       TEXT,
    client_addr      TEXT,
    cert_fingerprint TEXT,
    actor            TEXT    NOT NULL,
    detail           TEXT
);
CREATE INDEX audit_reference ON audit (reference);
CREATE INDEX audit_username ON audit (username, at);

CREATE TABLE rate_limits (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL
);
