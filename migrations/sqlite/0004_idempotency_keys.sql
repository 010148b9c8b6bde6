-- The SQLite twin of migrations/postgres/0004: each caller's Idempotency-Key and the
-- response its first request got. Times are fixed-width UTC text, as in 0001.
CREATE TABLE idempotency_keys (
    owner             TEXT    NOT NULL,
    idempotency_key   TEXT    NOT NULL,
    fingerprint       TEXT    NOT NULL,
    response_status   INTEGER NOT NULL CHECK (response_status BETWEEN 100 AND 599),
    response_body     TEXT    NOT NULL,
    response_location TEXT,
    response_etag     TEXT,
    created           TEXT    NOT NULL,
    expires           TEXT    NOT NULL,
    PRIMARY KEY (owner, idempotency_key)
) STRICT;

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires);
