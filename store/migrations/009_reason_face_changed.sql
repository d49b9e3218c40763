-- 009: reason face_changed — the face that completed the capture's prompts
-- is not the face in the frames that were matched (package capture).
ALTER TABLE session_attempts DROP CONSTRAINT session_attempts_reason_check;
ALTER TABLE session_attempts ADD CONSTRAINT session_attempts_reason_check CHECK (reason IN
    ('no_face', 'multiple_faces', 'poor_light', 'blurry', 'too_far', 'pose',
     'liveness_failed', 'injection_suspected', 'no_match', 'timeout', 'aborted',
     'register_photo_missing', 'register_photo_unusable', 'challenge_failed', 'face_changed'));
