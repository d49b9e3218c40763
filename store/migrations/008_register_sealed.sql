-- 008: register photos and cached embeddings are sealed at rest with
-- AES-256-GCM under the register key (package register). photo_key names
-- the key a photo is sealed under; NULL marks a photo written before this
-- migration, still in the clear, which register.PG.Reseal seals
-- (vidid serve and the register commands run it on start). The embeddings
-- are a cache: they are dropped here and rebuilt, sealed, on first use.
ALTER TABLE citizens ADD COLUMN photo_key text CHECK (photo_key ~ '^[0-9a-f]{16}$');
ALTER TABLE citizens DROP CONSTRAINT citizens_photo_check;
ALTER TABLE citizens ADD CONSTRAINT citizens_photo_check CHECK (length(photo) BETWEEN 1 AND 10485760 + 28);

DELETE FROM register_embeddings;
ALTER TABLE register_embeddings DROP COLUMN vec;
ALTER TABLE register_embeddings ADD COLUMN vec bytea NOT NULL CHECK (length(vec) BETWEEN 4 + 28 AND 4 * 8192 + 28);
ALTER TABLE register_embeddings ADD COLUMN vec_key text NOT NULL CHECK (vec_key ~ '^[0-9a-f]{16}$');
