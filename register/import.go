package register

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/audit"
	"vidid/idnum"
)

// ManifestName is the file Import reads from its directory.
const ManifestName = "manifest.csv"

// manifestHeader is the required first line of the manifest.
var manifestHeader = []string{"iin", "surname", "given_name", "patronymic", "birth_date", "photo"}

// maxReportedErrors caps the row errors one failed import lists.
const maxReportedErrors = 20

// entry is a validated citizen whose photo is re-read at write time (so a
// large import does not hold every photo in memory) and must still hash to
// c.PhotoSHA256.
type entry struct {
	where string // "manifest.csv line 7" or a demo folder, for errors
	c     Citizen
	read  func() ([]byte, error)
}

// Import loads a register extract: DIR/manifest.csv, UTF-8 CSV with the header
//
//	iin,surname,given_name,patronymic,birth_date,photo
//
// where birth_date is YYYY-MM-DD and photo a JPEG or PNG file named relative
// to DIR (it may not leave DIR). Every row is validated before anything is
// written: the IIN, no IIN twice, birth_date agreeing with the IIN, a usable
// photo (see ErrBadPhoto), the names. Any bad row fails the import with
// ErrBadManifest listing the bad rows by line number, and nothing is
// written. Otherwise all rows are upserted in one transaction (as Put does:
// cached embeddings of replaced photos are dropped); n is the row count.
func Import(ctx context.Context, repo *PG, dir string) (n int, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("import register: %w", err)
	}
	defer root.Close()
	f, err := root.Open(ManifestName)
	if err != nil {
		return 0, fmt.Errorf("import register: %w", err)
	}
	defer f.Close()

	entries, err := readManifest(f, root)
	if err != nil {
		return 0, fmt.Errorf("import register from %s: %w", dir, err)
	}
	if err := repo.writeAll(ctx, "import", entries); err != nil {
		return 0, fmt.Errorf("import register from %s: %w", dir, err)
	}
	return len(entries), nil
}

// readManifest parses and validates the whole manifest.
func readManifest(r io.Reader, root *os.Root) ([]entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(manifestHeader)
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s is empty", ErrBadManifest, ManifestName)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadManifest, ManifestName, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\uFEFF") // spreadsheet BOM
	}
	for i := range head {
		if strings.TrimSpace(head[i]) != manifestHeader[i] {
			return nil, fmt.Errorf("%w: %s line 1: header must be %q", ErrBadManifest, ManifestName, strings.Join(manifestHeader, ","))
		}
	}

	var (
		entries []entry
		errs    []error
		seen    = map[string]int{} // IIN → line
	)
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s line %d: "+format, append([]any{ManifestName, line}, args...)...))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A CSV syntax error ends parsing: later line numbers are unreliable.
			errs = append(errs, fmt.Errorf("%s: %w", ManifestName, err))
			break
		}
		line, _ := cr.FieldPos(0)
		iin, photo := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[5])
		if err := idnum.ValidateIIN(iin); err != nil {
			bad(line, "%w", err)
			continue
		}
		if prev, dup := seen[iin]; dup {
			bad(line, "IIN %s repeats line %d", idnum.MaskIIN(iin), prev)
			continue
		}
		seen[iin] = line
		born, err := time.Parse(time.DateOnly, strings.TrimSpace(rec[4]))
		if err != nil {
			bad(line, "birth_date %q is not YYYY-MM-DD", rec[4])
			continue
		}
		if photo == "" || !filepath.IsLocal(photo) {
			bad(line, "photo %q must be a file name inside the import directory", photo)
			continue
		}
		read := func() ([]byte, error) { return readPhoto(root, photo) }
		c := Citizen{IIN: iin, Surname: rec[1], GivenName: rec[2], Patronymic: rec[3], BirthDate: born}
		where := fmt.Sprintf("%s line %d", ManifestName, line)
		e, err := checkEntry(where, c, read)
		if err != nil {
			bad(line, "%w", err)
			continue
		}
		entries = append(entries, e)
	}
	if len(errs) > 0 {
		more, nbad := "", len(errs)
		if nbad > maxReportedErrors {
			more = fmt.Sprintf(" (first %d shown)", maxReportedErrors)
			errs = errs[:maxReportedErrors]
		}
		rows := "rows"
		if nbad == 1 {
			rows = "row"
		}
		return nil, fmt.Errorf("%w: %d bad %s%s, nothing imported:\n%w", ErrBadManifest, nbad, rows, more, errors.Join(errs...))
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: %s has no rows", ErrBadManifest, ManifestName)
	}
	return entries, nil
}

// checkEntry reads the photo once, validates the citizen and keeps only the
// photo's hash.
func checkEntry(where string, c Citizen, read func() ([]byte, error)) (entry, error) {
	b, err := read()
	if err != nil {
		return entry{}, err
	}
	c.Photo = b
	c, err = checkCitizen(c)
	if err != nil {
		return entry{}, err
	}
	c.Photo = nil
	return entry{where: where, c: c, read: read}, nil
}

func readPhoto(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: photo %s does not exist", ErrBadPhoto, name)
		}
		return nil, fmt.Errorf("%w: photo %s: %w", ErrBadPhoto, name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: photo %s: %w", ErrBadPhoto, name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: photo %s is not a regular file", ErrBadPhoto, name)
	}
	if st.Size() > MaxPhotoBytes {
		return nil, fmt.Errorf("%w: photo %s has %d bytes, at most %d allowed", ErrBadPhoto, name, st.Size(), MaxPhotoBytes)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPhotoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read photo %s: %w", ErrBadPhoto, name, err)
	}
	return b, nil
}

// writeAll upserts validated entries in one transaction: all or nothing.
func (r *PG) writeAll(ctx context.Context, source string, entries []entry) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		for _, e := range entries {
			b, err := e.read()
			if err != nil {
				return fmt.Errorf("%s: %w", e.where, err)
			}
			if photoSHA256(b) != e.c.PhotoSHA256 {
				return fmt.Errorf("%s: %w: photo changed while importing", e.where, ErrBadPhoto)
			}
			c := e.c
			c.Photo = b
			if err := r.putTx(ctx, tx, c); err != nil {
				return fmt.Errorf("%s: write citizen %s: %w", e.where, idnum.MaskIIN(c.IIN), err)
			}
		}
		return r.auditTx(ctx, tx, audit.KindRegisterWritten, map[string]any{"source": source, "citizens": len(entries), "key_id": r.KeyID()})
	})
}
