-- 012 session (package session): when the assertion of a session approved
-- by a moderator was handed to the applicant. Set once, in the transaction
-- that records the assertion's issue in the audit log, so an approval
-- yields at most one assertion (one certificate).
ALTER TABLE sessions ADD COLUMN handed_over_at timestamptz
    CHECK (handed_over_at IS NULL OR status = 'approved');
