-- Faults and lifetimes: accounts that support can disable, the outbox key each sealed
-- mail was sealed with, the facts every server must agree on, and the indexes the
-- purges and the audit's retention scan by.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
ALTER TABLE accounts ADD COLUMN disabled_reason TEXT;
ALTER TABLE outbox ADD COLUMN key_id TEXT;  -- the outbox key's id; NULL: sealed before ids existed
CREATE TABLE server_settings (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX outbox_created ON outbox (created_at);
