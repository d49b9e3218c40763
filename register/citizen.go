// Package register is the population register that selfies are matched
// against: citizens by IIN with their register photo, and the face
// embeddings of that photo cached per model version. PG keeps it in
// PostgreSQL (schema store/migrations/001_register.sql); Import loads a
// register extract from a manifest; SeedDemo builds a demo register from the
// public test data.
package register

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register photo formats
	_ "image/png"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vidid/idnum"
)

// Photo limits.
const (
	MaxPhotoBytes = 10 << 20 // 10 MB
	MinPhotoSide  = 64       // pixels
	MaxPhotoSide  = 6000     // pixels
	maxNameRunes  = 200
)

// Citizen is one entry of the population register.
type Citizen struct {
	IIN        string
	Surname    string
	GivenName  string
	Patronymic string
	// BirthDate is the date of birth (midnight UTC when read back). Put
	// fills it from the IIN when zero and refuses one that disagrees.
	BirthDate time.Time
	// Photo is the register photo, JPEG or PNG.
	Photo []byte
	// PhotoType is "image/jpeg" or "image/png"; Put detects it from the
	// bytes (and refuses a disagreeing value).
	PhotoType string
	// PhotoSHA256 is the hex SHA-256 of Photo; Put computes it.
	PhotoSHA256 string
	// UpdatedAt is when the record last changed (set by the database).
	UpdatedAt time.Time
}

// CitizenSummary is a Citizen without the photo bytes, for listings.
type CitizenSummary struct {
	IIN         string
	Surname     string
	GivenName   string
	Patronymic  string
	BirthDate   time.Time
	PhotoType   string
	PhotoSHA256 string
	UpdatedAt   time.Time
}

// checkCitizen validates c and returns it normalised for storage: names
// trimmed, BirthDate from the IIN, PhotoType and PhotoSHA256 computed.
func checkCitizen(c Citizen) (Citizen, error) {
	if err := idnum.ValidateIIN(c.IIN); err != nil {
		return Citizen{}, err
	}
	born := idnum.IIN(c.IIN).BirthDate()
	if !c.BirthDate.IsZero() {
		y, m, d := c.BirthDate.Date()
		if y != born.Year() || m != born.Month() || d != born.Day() {
			return Citizen{}, fmt.Errorf("%w: birth date %s disagrees with the IIN's %s",
				ErrBadRecord, c.BirthDate.Format(time.DateOnly), born.Format(time.DateOnly))
		}
	}
	c.BirthDate = born
	for _, f := range []struct {
		what string
		v    *string
	}{{"surname", &c.Surname}, {"given name", &c.GivenName}, {"patronymic", &c.Patronymic}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkName(*f.v); err != nil {
			return Citizen{}, fmt.Errorf("%w: %s %w", ErrBadRecord, f.what, err)
		}
	}
	if c.Surname == "" {
		return Citizen{}, fmt.Errorf("%w: surname is empty", ErrBadRecord)
	}
	typ, err := checkPhoto(c.Photo)
	if err != nil {
		return Citizen{}, err
	}
	if c.PhotoType != "" && c.PhotoType != typ {
		return Citizen{}, fmt.Errorf("%w: declared %q but the bytes are %s", ErrBadPhoto, c.PhotoType, typ)
	}
	c.PhotoType = typ
	c.PhotoSHA256 = photoSHA256(c.Photo)
	return c, nil
}

func checkName(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxNameRunes {
		return fmt.Errorf("is %d characters long, at most %d allowed", n, maxNameRunes)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("contains control characters")
	}
	return nil
}

// checkPhoto accepts a JPEG or PNG of at most MaxPhotoBytes whose sides are
// MinPhotoSide–MaxPhotoSide pixels and which decodes completely (a valid
// header over a truncated body is refused too). It returns the MIME type.
func checkPhoto(b []byte) (string, error) {
	if len(b) == 0 {
		return "", fmt.Errorf("%w: no photo", ErrBadPhoto)
	}
	if len(b) > MaxPhotoBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadPhoto, len(b), MaxPhotoBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("%w: not a JPEG or PNG image: %w", ErrBadPhoto, err)
	}
	var typ string
	switch format {
	case "jpeg":
		typ = "image/jpeg"
	case "png":
		typ = "image/png"
	default:
		return "", fmt.Errorf("%w: format %s, want JPEG or PNG", ErrBadPhoto, format)
	}
	if cfg.Width < MinPhotoSide || cfg.Height < MinPhotoSide || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide {
		return "", fmt.Errorf("%w: %dx%d pixels, each side must be %d–%d", ErrBadPhoto, cfg.Width, cfg.Height, MinPhotoSide, MaxPhotoSide)
	}
	// The header's size is bounded above, so decoding is bounded too.
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return "", fmt.Errorf("%w: corrupt %s data: %w", ErrBadPhoto, format, err)
	}
	return typ, nil
}

func photoSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
