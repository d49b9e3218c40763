-- evidence (package evidence): the best frames of each capture attempt,
-- kept for moderators, encrypted at rest (AES-256-GCM, key outside the
-- database), deleted by the retention sweep.
CREATE TABLE attempt_evidence (
    attempt_id  uuid        NOT NULL REFERENCES session_attempts (id) ON DELETE CASCADE,
    n           integer     NOT NULL CHECK (n >= 0),
    key_id      text        NOT NULL,
    sealed      bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, n)
);
CREATE INDEX attempt_evidence_created ON attempt_evidence (created_at);
