-- 014 moderation: the first of two approvals a case needs under the
-- four-eyes rule (moderation.Config.FourEyes): who gave it and when. The
-- second approval must come from another moderator.
ALTER TABLE sessions
    ADD COLUMN first_approved_by text REFERENCES moderators (id),
    ADD COLUMN first_approved_at timestamptz,
    ADD CHECK ((first_approved_by IS NULL) = (first_approved_at IS NULL));
