-- The desk finds an account by its registered email, whatever its case (a caller reads
-- the address out; it is stored as the user typed it).
CREATE INDEX accounts_email_lower ON accounts (lower(email));
