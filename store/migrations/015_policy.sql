-- 015 policy (package policy): versioned decision policies. One row per
-- version, immutable once written (body and digest never change); status
-- moves proposed -> active -> retired, and at most one row is active.
-- Derived versions (flag overrides on serve) are stored as 'derived' so
-- every version an attempt names can be read back. Each attempt records
-- the policy version it was judged under and the measurements it was
-- judged on. Lock order: policies rows by version.
CREATE TABLE policies (
    version      text PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$'),
    parent       text REFERENCES policies (version),
    body         jsonb NOT NULL,
    digest       text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    status       text NOT NULL CHECK (status IN ('proposed', 'active', 'retired', 'derived')),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by   text NOT NULL,
    activated_at timestamptz,
    activated_by text,
    CHECK ((status = 'active') <= (activated_at IS NOT NULL))
);
CREATE UNIQUE INDEX policies_one_active ON policies ((true)) WHERE status = 'active';

ALTER TABLE session_attempts
    ADD COLUMN policy_version text REFERENCES policies (version),
    ADD COLUMN measurements jsonb;
