-- 011 moderation (package moderation): moderator accounts and case claims.
-- A moderator signs in with a random access token stored only as its
-- SHA-256. Opening a case in the queue claims it for a while, so two
-- moderators do not review one case at once; the claim also gates the
-- case's images (evidence is served only to the moderator whose audited
-- opening of the case holds the claim). Lock order: sessions row (FOR
-- UPDATE) → audit_log append last, as in 002.
CREATE TABLE moderators (
    id          text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name        text        NOT NULL CHECK (name <> '' AND length(name) <= 200),
    token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

ALTER TABLE sessions
    ADD COLUMN claimed_by text REFERENCES moderators (id),
    ADD COLUMN claimed_until timestamptz,
    ADD CHECK ((claimed_by IS NULL) = (claimed_until IS NULL));
