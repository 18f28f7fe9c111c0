-- OCSP answers about token certificates, shared by every server on the database: the
-- checked status and until when it may be reused, or the last exchange's error.
CREATE TABLE ocsp_cache (
    key         TEXT    PRIMARY KEY,  -- SHA-256 of the issuer's key and the serial
    url         TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    status      TEXT    NOT NULL,     -- good | revoked | unknown | none (no answer)
    revoked_at  BIGINT,
    this_update BIGINT  NOT NULL,
    good_until  BIGINT  NOT NULL,
    fetched_at  BIGINT  NOT NULL,
    signer      TEXT    NOT NULL,
    last_error  TEXT
);
