-- 003_assertion: signing keys of the identity assertion and the single-use
-- register of consumed assertions (package vidid/assertion; see
-- assertion/doc.go for the key lifecycle).

-- Signing keys, shared by every replica. A key is published in the JWKS from
-- created_at, signs from activates_at (created_at + the publish delay, so
-- relying parties can fetch it first) until retires_at (its successor's
-- activates_at), and stays in the JWKS until retires_at + the longest token
-- lifetime + a grace period. The private key is PKCS#8 DER sealed with
-- AES-256-GCM under the key-encryption key named by kek_id, with the kid as
-- additional data (a row copied under another kid does not open).
CREATE TABLE assertion_keys (
    kid          text        PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{16,128}$'),
    alg          text        NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
    public_jwk   jsonb       NOT NULL CHECK (jsonb_typeof(public_jwk) = 'object' AND NOT public_jwk ? 'd'),
    private_key  bytea       NOT NULL CHECK (length(private_key) BETWEEN 29 AND 4096),
    kek_id       text        NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
    created_at   timestamptz NOT NULL,
    activates_at timestamptz NOT NULL CHECK (activates_at >= created_at),
    retires_at   timestamptz CHECK (retires_at IS NULL OR retires_at >= created_at)
);

CREATE INDEX assertion_keys_activates ON assertion_keys (activates_at);

-- One row per consumed assertion: INSERT … ON CONFLICT DO NOTHING inserting
-- no row is a replay. Rows whose exp is past (plus leeway) can be purged: the
-- verifier refuses such tokens as expired before it gets here.
CREATE TABLE assertion_jti (
    jti     text        PRIMARY KEY CHECK (jti ~ '^[A-Za-z0-9_-]{16,128}$'),
    sub     text        NOT NULL,
    aud     text        NOT NULL,
    exp     timestamptz NOT NULL,
    used_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX assertion_jti_exp ON assertion_jti (exp);
