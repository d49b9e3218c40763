-- 013 session/moderation: why a moderator rejected a session, as a code
-- analysts can count (the free-text note stays beside it). NULL for an
-- approval and for decisions recorded before this migration.
ALTER TABLE sessions ADD COLUMN moderation_reason text
    CHECK (moderation_reason IN ('different_person', 'not_live', 'register_photo_wrong', 'poor_evidence', 'other'));
