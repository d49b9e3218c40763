package register

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/idnum"
	"vidid/internal/seal"
)

// Limits on cached embeddings and listings.
const (
	MaxEmbeddingLen = 8192
	maxModelLen     = 200
	MaxListLimit    = 1000
)

// PG is the population register in PostgreSQL (tables citizens and
// register_embeddings). Photos and cached embeddings are sealed at rest
// with AES-256-GCM under the register key; names, dates of birth and photo
// hashes are not. It is safe for concurrent use.
type PG struct {
	pool  *pgxpool.Pool
	keys  *seal.Ring // the current key writes; earlier ones only read, during a rotation
	audit *audit.Log // nil: administrative writes are not audited
}

// WithAudit makes imports, seeds and reseals append a record to the audit
// log, in the same transaction as the change. It returns r.
func (r *PG) WithAudit(l *audit.Log) *PG {
	r.audit = l
	return r
}

// auditTx appends an administrative record when an audit log is set.
func (r *PG) auditTx(ctx context.Context, tx pgx.Tx, kind audit.Kind, data map[string]any) error {
	if r.audit == nil {
		return nil
	}
	if _, err := r.audit.Append(ctx, tx, audit.Entry{Kind: kind, Data: data}); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// NewPG returns the register over pool (migrated with store.Migrate),
// sealing with key (KeySize bytes). Every process sharing the database
// needs the same key. previous are earlier register keys, during a key
// rotation: data sealed under them still opens, and Reseal moves it to key.
func NewPG(pool *pgxpool.Pool, key []byte, previous ...[]byte) (*PG, error) {
	keys, err := seal.NewDomainRing("register key", keyIDDomain, key, previous...)
	if err != nil {
		return nil, err
	}
	return &PG{pool: pool, keys: keys}, nil
}

// open opens a value sealed under the key with id keyID: the current key
// or a previous one.
func (r *PG) open(sealed, aad []byte, keyID string) ([]byte, error) {
	k, ok := r.keys.Key(keyID)
	if !ok {
		return nil, fmt.Errorf("%w: sealed with key %s, this process has key %s (wrong register key or secrets folder?)",
			ErrSealed, keyID, r.KeyID())
	}
	plain, err := k.Open(sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	return plain, nil
}

// sealValue seals plain under the current key.
func (r *PG) sealValue(plain, aad []byte) ([]byte, error) {
	return r.keys.Current().Seal(nil, plain, aad)
}

// knownKeys lists the current and previous key ids.
func (r *PG) knownKeys() []string { return r.keys.IDs() }

// KeyID is the id of the register key in use (see KeyID).
func (r *PG) KeyID() string { return r.keys.Current().ID() }

// Put inserts or replaces the citizen with c.IIN after validating the IIN,
// the names, the date of birth against the IIN, and the photo (see
// ErrBadPhoto). When the photo changes, the cached embeddings of the old
// photo are deleted in the same transaction. Putting an identical record
// again changes nothing (UpdatedAt included).
func (r *PG) Put(ctx context.Context, c Citizen) error {
	c, err := checkCitizen(c)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return r.putTx(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("put citizen %s: %w", idnum.MaskIIN(c.IIN), err)
	}
	return nil
}

// putTx seals the photo of a checked citizen and writes the citizen inside
// tx. A row whose photo is in the clear or under another key is rewritten
// even when nothing else changed.
func (r *PG) putTx(ctx context.Context, tx pgx.Tx, c Citizen) error {
	sealed, err := r.sealValue(c.Photo, photoAAD(c.IIN, c.PhotoSHA256))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO citizens (iin, surname, given_name, patronymic, birth_date, photo, photo_type, photo_sha256, photo_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (iin) DO UPDATE SET
			surname = EXCLUDED.surname, given_name = EXCLUDED.given_name, patronymic = EXCLUDED.patronymic,
			birth_date = EXCLUDED.birth_date, photo = EXCLUDED.photo, photo_type = EXCLUDED.photo_type,
			photo_sha256 = EXCLUDED.photo_sha256, photo_key = EXCLUDED.photo_key, updated_at = now()
		WHERE (citizens.surname, citizens.given_name, citizens.patronymic, citizens.birth_date,
		       citizens.photo_type, citizens.photo_sha256, citizens.photo_key)
		      IS DISTINCT FROM
		      (EXCLUDED.surname, EXCLUDED.given_name, EXCLUDED.patronymic, EXCLUDED.birth_date,
		       EXCLUDED.photo_type, EXCLUDED.photo_sha256, EXCLUDED.photo_key)`,
		c.IIN, c.Surname, c.GivenName, c.Patronymic, c.BirthDate, sealed, c.PhotoType, c.PhotoSHA256, r.KeyID())
	if err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM register_embeddings WHERE iin = $1 AND photo_sha256 <> $2`, c.IIN, c.PhotoSHA256); err != nil {
		return fmt.Errorf("drop stale embeddings: %w", err)
	}
	return nil
}

// Get returns the citizen with this IIN, photo included (opened and checked
// against its hash); ErrNotFound if the register has none, idnum.ErrInvalidIIN for
// a malformed number, ErrSealed if the photo cannot be opened with this
// process's key.
func (r *PG) Get(ctx context.Context, iin string) (Citizen, error) {
	if err := idnum.ValidateIIN(iin); err != nil {
		return Citizen{}, err
	}
	var c Citizen
	var key *string
	err := r.pool.QueryRow(ctx, `
		SELECT iin, surname, given_name, patronymic, birth_date, photo, photo_type, photo_sha256, photo_key, updated_at
		FROM citizens WHERE iin = $1`, iin).
		Scan(&c.IIN, &c.Surname, &c.GivenName, &c.Patronymic, &c.BirthDate, &c.Photo, &c.PhotoType, &c.PhotoSHA256, &key, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Citizen{}, fmt.Errorf("citizen %s: %w", idnum.MaskIIN(iin), ErrNotFound)
	}
	if err != nil {
		return Citizen{}, fmt.Errorf("get citizen %s: %w", idnum.MaskIIN(iin), err)
	}
	if key != nil { // NULL: written before migration 008, in the clear
		if c.Photo, err = r.open(c.Photo, photoAAD(c.IIN, c.PhotoSHA256), *key); err != nil {
			return Citizen{}, fmt.Errorf("photo of citizen %s: %w", idnum.MaskIIN(iin), err)
		}
	}
	if photoSHA256(c.Photo) != c.PhotoSHA256 {
		return Citizen{}, fmt.Errorf("photo of citizen %s: %w: it does not match its recorded hash", idnum.MaskIIN(iin), ErrSealed)
	}
	return c, nil
}

// CheckKey returns an error wrapping ErrSealed when photos or cached
// embeddings in the register are sealed under a key that is neither this
// process's nor one of its previous keys, naming the key ids and how many
// rows each seals: a process started with the wrong register key should
// refuse to start rather than fail every verification.
func (r *PG) CheckKey(ctx context.Context) error {
	rows, err := r.pool.Query(ctx, `
		SELECT k, sum(n)::bigint FROM (
			SELECT photo_key AS k, count(*) AS n FROM citizens WHERE photo_key IS NOT NULL GROUP BY photo_key
			UNION ALL
			SELECT vec_key, count(*) FROM register_embeddings GROUP BY vec_key) t
		WHERE NOT (k = ANY($1)) GROUP BY k ORDER BY k`, r.knownKeys())
	if err != nil {
		return fmt.Errorf("check register key: %w", err)
	}
	var foreign []string
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("check register key: %w", err)
		}
		foreign = append(foreign, fmt.Sprintf("%s (%d rows)", k, n))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check register key: %w", err)
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%w: the register holds data sealed under key %s, but this process has key %s (wrong register-key secret?)",
			ErrSealed, strings.Join(foreign, ", "), r.KeyID())
	}
	return nil
}

// Reseal brings every photo under the current key: photos still in the
// clear (written before migration 008) are sealed, and photos sealed under
// a previous key are opened and sealed again. Cached embeddings under a
// previous key are dropped (they are rebuilt on use). It works batch by
// batch, each batch in its own transaction, skipping rows another process
// is resealing at the same time, and returns how many photos it sealed.
func (r *PG) Reseal(ctx context.Context) (int, error) {
	if _, err := r.pool.Exec(ctx, `DELETE FROM register_embeddings WHERE vec_key <> $1`, r.KeyID()); err != nil {
		return 0, fmt.Errorf("drop embeddings under old keys: %w", err)
	}
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `
				SELECT iin, photo, photo_sha256, photo_key FROM citizens WHERE photo_key IS DISTINCT FROM $1
				ORDER BY iin LIMIT 100 FOR UPDATE SKIP LOCKED`, r.KeyID())
			if err != nil {
				return err
			}
			type row struct {
				iin, sha string
				photo    []byte
				key      *string
			}
			batch, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
				var x row
				err := cr.Scan(&x.iin, &x.photo, &x.sha, &x.key)
				return x, err
			})
			if err != nil {
				return err
			}
			for _, x := range batch {
				plain := x.photo
				if x.key != nil {
					if plain, err = r.open(x.photo, photoAAD(x.iin, x.sha), *x.key); err != nil {
						return fmt.Errorf("citizen %s: %w", idnum.MaskIIN(x.iin), err)
					}
				}
				if photoSHA256(plain) != x.sha {
					return fmt.Errorf("citizen %s: %w: the photo does not match its recorded hash", idnum.MaskIIN(x.iin), ErrSealed)
				}
				sealed, err := r.sealValue(plain, photoAAD(x.iin, x.sha))
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE citizens SET photo = $2, photo_key = $3 WHERE iin = $1`,
					x.iin, sealed, r.KeyID()); err != nil {
					return err
				}
			}
			if len(batch) > 0 {
				from := map[string]int{}
				for _, x := range batch {
					k := "clear"
					if x.key != nil {
						k = *x.key
					}
					from[k]++
				}
				if err := r.auditTx(ctx, tx, audit.KindRegisterResealed, map[string]any{"photos": len(batch), "key_id": r.KeyID(), "from": from}); err != nil {
					return err
				}
			}
			n = len(batch)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("seal register photos: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// List returns up to limit (1–MaxListLimit) citizens without photos,
// ordered by surname, given name and IIN, skipping the first offset.
func (r *PG) List(ctx context.Context, limit, offset int) ([]CitizenSummary, error) {
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("list citizens: limit %d outside 1–%d", limit, MaxListLimit)
	}
	if offset < 0 {
		return nil, fmt.Errorf("list citizens: negative offset %d", offset)
	}
	rows, err := r.pool.Query(ctx, `
		SELECT iin, surname, given_name, patronymic, birth_date, photo_type, photo_sha256, updated_at
		FROM citizens ORDER BY surname, given_name, iin LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list citizens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CitizenSummary, error) {
		var s CitizenSummary
		err := row.Scan(&s.IIN, &s.Surname, &s.GivenName, &s.Patronymic, &s.BirthDate, &s.PhotoType, &s.PhotoSHA256, &s.UpdatedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list citizens: %w", err)
	}
	return out, nil
}

// Count returns the number of citizens in the register.
func (r *PG) Count(ctx context.Context) (int, error) {
	var n int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM citizens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count citizens: %w", err)
	}
	return n, nil
}

// PutEmbedding caches vec, the embedding by model of the citizen's photo
// whose SHA-256 is photoSHA256, replacing any earlier one for that model.
// It is stored only while that photo is still the current one: otherwise
// ErrPhotoChanged (the caller embedded a photo that has since been
// replaced), or ErrNotFound if the citizen is gone.
func (r *PG) PutEmbedding(ctx context.Context, iin, model, photoSHA256 string, vec []float32) error {
	if err := idnum.ValidateIIN(iin); err != nil {
		return err
	}
	if err := checkEmbedding(model, photoSHA256, vec); err != nil {
		return err
	}
	sealed, err := r.sealValue(vectorBytes(vec), embeddingAAD(iin, model, photoSHA256))
	if err != nil {
		return err
	}
	tag, err := r.pool.Exec(ctx, `
		INSERT INTO register_embeddings (iin, model, photo_sha256, vec, vec_key)
		SELECT iin, $2, photo_sha256, $4, $5 FROM citizens WHERE iin = $1 AND photo_sha256 = $3
		ON CONFLICT (iin, model) DO UPDATE SET
			photo_sha256 = EXCLUDED.photo_sha256, vec = EXCLUDED.vec, vec_key = EXCLUDED.vec_key, created_at = now()`,
		iin, model, photoSHA256, sealed, r.KeyID())
	if err != nil {
		return fmt.Errorf("cache embedding for %s (%s): %w", idnum.MaskIIN(iin), model, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM citizens WHERE iin = $1)`, iin).Scan(&exists); err != nil {
		return fmt.Errorf("cache embedding for %s (%s): %w", idnum.MaskIIN(iin), model, err)
	}
	if !exists {
		return fmt.Errorf("cache embedding: citizen %s: %w", idnum.MaskIIN(iin), ErrNotFound)
	}
	return fmt.Errorf("cache embedding for %s (%s): %w", idnum.MaskIIN(iin), model, ErrPhotoChanged)
}

// GetEmbedding returns the cached embedding by model of the citizen's
// current photo and that photo's SHA-256. ErrNotFound when there is none,
// including when the cached one was made from an earlier photo.
func (r *PG) GetEmbedding(ctx context.Context, iin, model string) ([]float32, string, error) {
	if err := idnum.ValidateIIN(iin); err != nil {
		return nil, "", err
	}
	var sealed []byte
	var sha, key string
	err := r.pool.QueryRow(ctx, `
		SELECT e.vec, e.vec_key, e.photo_sha256
		FROM register_embeddings e JOIN citizens c ON c.iin = e.iin AND c.photo_sha256 = e.photo_sha256
		WHERE e.iin = $1 AND e.model = $2`, iin, model).Scan(&sealed, &key, &sha)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("embedding for %s (%s): %w", idnum.MaskIIN(iin), model, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("get embedding for %s (%s): %w", idnum.MaskIIN(iin), model, err)
	}
	plain, err := r.open(sealed, embeddingAAD(iin, model, sha), key)
	if err != nil {
		return nil, "", fmt.Errorf("embedding for %s (%s): %w", idnum.MaskIIN(iin), model, err)
	}
	vec, err := bytesVector(plain)
	if err != nil {
		return nil, "", fmt.Errorf("embedding for %s (%s): %w", idnum.MaskIIN(iin), model, err)
	}
	return vec, sha, nil
}

func checkEmbedding(model, photoSHA256 string, vec []float32) error {
	switch {
	case model == "" || len(model) > maxModelLen:
		return fmt.Errorf("%w: model name must be 1–%d bytes", ErrBadEmbedding, maxModelLen)
	case !isSHA256Hex(photoSHA256):
		return fmt.Errorf("%w: photo hash is not 64 lowercase hex digits", ErrBadEmbedding)
	case len(vec) == 0 || len(vec) > MaxEmbeddingLen:
		return fmt.Errorf("%w: %d components, want 1–%d", ErrBadEmbedding, len(vec), MaxEmbeddingLen)
	}
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d is not finite", ErrBadEmbedding, i)
		}
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
