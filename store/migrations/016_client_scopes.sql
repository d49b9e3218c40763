-- 016 rp (package rp): what a relying party's API key may see beyond the
-- default. 'analyst': /v1/verify answers with the score and threshold,
-- and says why a comparison could not be made (an unknown IIN, an
-- unusable register photo); without it /v1/verify answers match or no
-- match only, and is no register-membership oracle.
ALTER TABLE rp_clients
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{}' CHECK (scopes <@ ARRAY['analyst']::text[]);
