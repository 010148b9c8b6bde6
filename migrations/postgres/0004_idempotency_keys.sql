-- Safe retries: each caller's Idempotency-Key and the response its first request got,
-- written in the same transaction as that request's effect (service/src/idempotency.rs).
-- A key is its owner's: the same key from two callers is two rows.
CREATE TABLE idempotency_keys (
    owner             TEXT        NOT NULL,
    idempotency_key   TEXT        NOT NULL,
    fingerprint       TEXT        NOT NULL,
    response_status   INTEGER     NOT NULL CHECK (response_status BETWEEN 100 AND 599),
    response_body     TEXT        NOT NULL,
    response_location TEXT,
    response_etag     TEXT,
    created           TIMESTAMPTZ NOT NULL,
    expires           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner, idempotency_key)
);

-- Expired keys are deleted oldest first, a batch at a time, by this index.
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires);
