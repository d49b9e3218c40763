package register

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Limits on cached embeddings and listings.
const (
	MaxEmbeddingLen = 8192
	maxModelLen     = 200
	MaxListLimit    = 1000
)

// PG is the population register in PostgreSQL (tables citizens and
// register_embeddings). It is safe for concurrent use.
type PG struct {
	pool *pgxpool.Pool
}

// NewPG returns the register over pool (migrated with store.Migrate).
func NewPG(pool *pgxpool.Pool) *PG { return &PG{pool: pool} }

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
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return putTx(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("put citizen %s: %w", MaskIIN(c.IIN), err)
	}
	return nil
}

// putTx writes a checked citizen inside tx.
func putTx(ctx context.Context, tx pgx.Tx, c Citizen) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO citizens (iin, surname, given_name, patronymic, birth_date, photo, photo_type, photo_sha256)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (iin) DO UPDATE SET
			surname = EXCLUDED.surname, given_name = EXCLUDED.given_name, patronymic = EXCLUDED.patronymic,
			birth_date = EXCLUDED.birth_date, photo = EXCLUDED.photo, photo_type = EXCLUDED.photo_type,
			photo_sha256 = EXCLUDED.photo_sha256, updated_at = now()
		WHERE (citizens.surname, citizens.given_name, citizens.patronymic, citizens.birth_date,
		       citizens.photo_type, citizens.photo_sha256)
		      IS DISTINCT FROM
		      (EXCLUDED.surname, EXCLUDED.given_name, EXCLUDED.patronymic, EXCLUDED.birth_date,
		       EXCLUDED.photo_type, EXCLUDED.photo_sha256)`,
		c.IIN, c.Surname, c.GivenName, c.Patronymic, c.BirthDate, c.Photo, c.PhotoType, c.PhotoSHA256)
	if err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM register_embeddings WHERE iin = $1 AND photo_sha256 <> $2`, c.IIN, c.PhotoSHA256); err != nil {
		return fmt.Errorf("drop stale embeddings: %w", err)
	}
	return nil
}

// Get returns the citizen with this IIN, photo included; ErrNotFound if the
// register has none, ErrInvalidIIN for a malformed number.
func (r *PG) Get(ctx context.Context, iin string) (Citizen, error) {
	if err := ValidateIIN(iin); err != nil {
		return Citizen{}, err
	}
	var c Citizen
	err := r.pool.QueryRow(ctx, `
		SELECT iin, surname, given_name, patronymic, birth_date, photo, photo_type, photo_sha256, updated_at
		FROM citizens WHERE iin = $1`, iin).
		Scan(&c.IIN, &c.Surname, &c.GivenName, &c.Patronymic, &c.BirthDate, &c.Photo, &c.PhotoType, &c.PhotoSHA256, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Citizen{}, fmt.Errorf("citizen %s: %w", MaskIIN(iin), ErrNotFound)
	}
	if err != nil {
		return Citizen{}, fmt.Errorf("get citizen %s: %w", MaskIIN(iin), err)
	}
	return c, nil
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
	if err := ValidateIIN(iin); err != nil {
		return err
	}
	if err := checkEmbedding(model, photoSHA256, vec); err != nil {
		return err
	}
	tag, err := r.pool.Exec(ctx, `
		INSERT INTO register_embeddings (iin, model, photo_sha256, vec)
		SELECT iin, $2, photo_sha256, $4 FROM citizens WHERE iin = $1 AND photo_sha256 = $3
		ON CONFLICT (iin, model) DO UPDATE SET
			photo_sha256 = EXCLUDED.photo_sha256, vec = EXCLUDED.vec, created_at = now()`,
		iin, model, photoSHA256, vec)
	if err != nil {
		return fmt.Errorf("cache embedding for %s (%s): %w", MaskIIN(iin), model, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM citizens WHERE iin = $1)`, iin).Scan(&exists); err != nil {
		return fmt.Errorf("cache embedding for %s (%s): %w", MaskIIN(iin), model, err)
	}
	if !exists {
		return fmt.Errorf("cache embedding: citizen %s: %w", MaskIIN(iin), ErrNotFound)
	}
	return fmt.Errorf("cache embedding for %s (%s): %w", MaskIIN(iin), model, ErrPhotoChanged)
}

// GetEmbedding returns the cached embedding by model of the citizen's
// current photo and that photo's SHA-256. ErrNotFound when there is none,
// including when the cached one was made from an earlier photo.
func (r *PG) GetEmbedding(ctx context.Context, iin, model string) ([]float32, string, error) {
	if err := ValidateIIN(iin); err != nil {
		return nil, "", err
	}
	var vec []float32
	var sha string
	err := r.pool.QueryRow(ctx, `
		SELECT e.vec, e.photo_sha256
		FROM register_embeddings e JOIN citizens c ON c.iin = e.iin AND c.photo_sha256 = e.photo_sha256
		WHERE e.iin = $1 AND e.model = $2`, iin, model).Scan(&vec, &sha)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("embedding for %s (%s): %w", MaskIIN(iin), model, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("get embedding for %s (%s): %w", MaskIIN(iin), model, err)
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
