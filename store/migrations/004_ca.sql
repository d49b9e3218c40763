-- 004_ca: the reference certificate authority (package vidid/ca): its
-- certificate chain and every certificate it issued. See ca/doc.go.

-- One chain per CA id (the audience its assertions carry). Created once by
-- whichever CA process starts first (INSERT … ON CONFLICT DO NOTHING; the
-- others read the winner's row). Private keys are PKCS#8 DER sealed with
-- AES-256-GCM under the key-encryption key named by kek_id, with the CA id
-- and role as additional data.
CREATE TABLE ca_chains (
    ca_id       text        PRIMARY KEY CHECK (ca_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    root_pem    text        NOT NULL CHECK (root_pem LIKE '-----BEGIN CERTIFICATE-----%'),
    root_key    bytea       NOT NULL CHECK (length(root_key) BETWEEN 29 AND 16384),
    issuing_pem text        NOT NULL CHECK (issuing_pem LIKE '-----BEGIN CERTIFICATE-----%'),
    issuing_key bytea       NOT NULL CHECK (length(issuing_key) BETWEEN 29 AND 16384),
    kek_id      text        NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
    created_at  timestamptz NOT NULL
);

-- Every issued end-entity certificate. assertion_jti is unique: one
-- certificate per assertion, written in the same transaction that consumes
-- the assertion (assertion_jti row), so either both exist or neither.
CREATE TABLE ca_certificates (
    serial        text        PRIMARY KEY CHECK (serial ~ '^[0-9a-f]{1,40}$'),
    ca_id         text        NOT NULL REFERENCES ca_chains (ca_id),
    iin           text        NOT NULL CHECK (iin ~ '^[0-9]{12}$'),
    subject       text        NOT NULL CHECK (subject <> ''),
    not_before    timestamptz NOT NULL,
    not_after     timestamptz NOT NULL CHECK (not_after > not_before),
    assertion_jti text        NOT NULL UNIQUE,
    method        text        NOT NULL CHECK (method IN ('keystore', 'csr')),
    pem           text        NOT NULL CHECK (pem LIKE '-----BEGIN CERTIFICATE-----%'),
    issued_at     timestamptz NOT NULL
);

CREATE INDEX ca_certificates_iin ON ca_certificates (iin, issued_at);
