-- 010: the same-person score of an attempt (the lowest score between the
-- face seen during a prompt and the matched frames; see package capture),
-- for moderators and analysts. NULL when not measured.
ALTER TABLE session_attempts ADD COLUMN same_person_score double precision
    CHECK (same_person_score BETWEEN 0 AND 1);
