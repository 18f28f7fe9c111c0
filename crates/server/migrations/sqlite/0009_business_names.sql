-- The business a verified certificate of an MST names (its subject's CN, as the CA
-- wrote it), so the desk finds an account by the company a caller names. `folded` is
-- the name in lower case without diacritics (đ as d), what a search is matched against.
-- Written after a successful proof only; the last certificate seen wins.
CREATE TABLE business_names (
    mst     TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    folded  TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
