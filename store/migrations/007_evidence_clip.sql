-- evidence (package evidence): a short clip (downscaled frames spread over
-- the attempt) is kept beside the best frames; kind tells them apart.
ALTER TABLE attempt_evidence ADD COLUMN kind text NOT NULL DEFAULT 'best' CHECK (kind IN ('best', 'clip'));
ALTER TABLE attempt_evidence DROP CONSTRAINT attempt_evidence_pkey;
ALTER TABLE attempt_evidence ADD PRIMARY KEY (attempt_id, kind, n);
