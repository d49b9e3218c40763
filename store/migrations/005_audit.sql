-- 005_audit: the append-only, hash-chained audit log (package vidid/audit).
-- hash = SHA-256(prev_hash || canonical JSON of the record); see audit/doc.go.
-- Rows are appended by audit.Log.Append under pg_advisory_xact_lock, never
-- updated or deleted: the triggers below refuse UPDATE, DELETE and TRUNCATE,
-- and audit.Verify detects changes made by anyone who disables them.

CREATE TABLE audit_log (
    seq          bigint      PRIMARY KEY CHECK (seq > 0),
    at           timestamptz NOT NULL,
    kind         text        NOT NULL,
    session_id   uuid,
    subject_hash bytea       CHECK (length(subject_hash) = 32),
    data         jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    prev_hash    bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash         bytea       NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_session ON audit_log (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX audit_log_subject ON audit_log (subject_hash) WHERE subject_hash IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
