-- 001_register: the population register (package vidid/register): citizens
-- by IIN with their register photo, and face embeddings of that photo cached
-- per model version. An embedding is valid only while its photo_sha256 equals
-- the citizen's current one; register.PG.Put deletes stale rows in the same
-- transaction that replaces a photo.

CREATE TABLE citizens (
    iin          text        PRIMARY KEY CHECK (iin ~ '^[0-9]{12}$'),
    surname      text        NOT NULL CHECK (surname <> '' AND length(surname) <= 200),
    given_name   text        NOT NULL DEFAULT '' CHECK (length(given_name) <= 200),
    patronymic   text        NOT NULL DEFAULT '' CHECK (length(patronymic) <= 200),
    birth_date   date        NOT NULL,
    photo        bytea       NOT NULL CHECK (length(photo) BETWEEN 1 AND 10485760),
    photo_type   text        NOT NULL CHECK (photo_type IN ('image/jpeg', 'image/png')),
    photo_sha256 text        NOT NULL CHECK (photo_sha256 ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The demo picker lists by name.
CREATE INDEX citizens_by_name ON citizens (surname, given_name, iin);

CREATE TABLE register_embeddings (
    iin          text        NOT NULL REFERENCES citizens (iin) ON DELETE CASCADE,
    model        text        NOT NULL CHECK (model <> '' AND length(model) <= 200),
    photo_sha256 text        NOT NULL CHECK (photo_sha256 ~ '^[0-9a-f]{64}$'),
    vec          real[]      NOT NULL CHECK (cardinality(vec) BETWEEN 1 AND 8192),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (iin, model)
);
