-- CRLs fetched from the certificates' distribution points, shared by every server on
-- the database: the DER as fetched, its dates, and the last fetch's outcome.
CREATE TABLE crl_cache (
    url         TEXT    PRIMARY KEY,
    der         BYTEA,
    this_update BIGINT,
    next_update BIGINT,
    fetched_at  BIGINT  NOT NULL,
    last_error  TEXT
);
