// Package models knows every model file vidid loads: where it comes from, its
// size and its sha256. Model runtimes (OpenCV, dlib) abort the whole process
// on a corrupt file, so nothing may be handed to them before Verify passed.
package models

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

//go:embed catalog.tsv
var catalogTSV []byte

// ErrModel is returned (wrapped) for a missing, truncated or altered model file.
var ErrModel = errors.New("model file unusable")

// File is one catalogued model file.
type File struct {
	Subdir  string // folder under the model root, e.g. "faceplugin"
	Name    string // file name
	Size    int64
	SHA256  string // lower-case hex
	Source  string // npm:…, deb:…, url:… or cache-only
	Licence string
}

// Rel is the file's path relative to the model root.
func (f File) Rel() string { return filepath.Join(f.Subdir, f.Name) }

var (
	catalogOnce sync.Once
	catalog     []File
	catalogErr  error
)

// Catalog returns every catalogued model file.
func Catalog() ([]File, error) {
	catalogOnce.Do(func() { catalog, catalogErr = parseCatalog(catalogTSV) })
	return catalog, catalogErr
}

func parseCatalog(b []byte) ([]File, error) {
	var out []File
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if strings.TrimSpace(t) == "" || strings.HasPrefix(t, "#") {
			continue
		}
		c := strings.Split(t, "\t")
		if len(c) != 6 {
			return nil, fmt.Errorf("model catalog line %d: %d columns, want 6", line, len(c))
		}
		size, err := strconv.ParseInt(c[2], 10, 64)
		if err != nil || size <= 0 {
			return nil, fmt.Errorf("model catalog line %d: bad size %q", line, c[2])
		}
		if len(c[3]) != 64 {
			return nil, fmt.Errorf("model catalog line %d: bad sha256 %q", line, c[3])
		}
		out = append(out, File{Subdir: c[0], Name: c[1], Size: size, SHA256: strings.ToLower(c[3]), Source: c[4], Licence: c[5]})
	}
	return out, sc.Err()
}

// Lookup returns the catalogue entry for subdir/name.
func Lookup(subdir, name string) (File, error) {
	all, err := Catalog()
	if err != nil {
		return File{}, err
	}
	for _, f := range all {
		if f.Subdir == subdir && f.Name == name {
			return f, nil
		}
	}
	return File{}, fmt.Errorf("%w: %s/%s is not in the model catalogue", ErrModel, subdir, name)
}

// verified caches successful verifications by path, size and modification
// time, so that a process verifies a 100 MB file once.
var verified sync.Map // key string -> struct{}

// Path returns root/subdir/name after checking that the file exists and has
// the catalogued size and sha256. The error names the file, what is wrong and
// how to fix it (`make models`).
func Path(root, subdir, name string) (string, error) {
	f, err := Lookup(subdir, name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, f.Rel())
	if err := Verify(p, f); err != nil {
		return "", err
	}
	return p, nil
}

// ReadVerified reads root/subdir/name and checks the bytes read against the
// catalogue (size and sha256), so what the caller parses is exactly what was
// verified. Errors wrap ErrModel, like Path's.
func ReadVerified(root, subdir, name string) ([]byte, error) {
	f, err := Lookup(subdir, name)
	if err != nil {
		return nil, err
	}
	return readVerified(filepath.Join(root, f.Rel()), f)
}

func readVerified(p string, f File) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v (run `make models` or set --models/VIDID_MODELS)", ErrModel, p, err)
	}
	if int64(len(b)) != f.Size {
		return nil, fmt.Errorf("%w: %s has %d bytes, want %d (truncated or wrong file; run `make models`)", ErrModel, p, len(b), f.Size)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return nil, fmt.Errorf("%w: %s has sha256 %s, want %s (corrupt or altered; run `make models`)", ErrModel, p, got, f.SHA256)
	}
	return b, nil
}

// Verify checks the file at path against f.
func Verify(path string, f File) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v (run `make models` or set --models/VIDID_MODELS)", ErrModel, path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%w: %s is a directory", ErrModel, path)
	}
	if st.Size() != f.Size {
		return fmt.Errorf("%w: %s has %d bytes, want %d (truncated or wrong file; run `make models`)", ErrModel, path, st.Size(), f.Size)
	}
	key := fmt.Sprintf("%s|%d|%d", path, st.Size(), st.ModTime().UnixNano())
	if _, ok := verified.Load(key); ok {
		return nil
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrModel, path, err)
	}
	if sum != f.SHA256 {
		return fmt.Errorf("%w: %s has sha256 %s, want %s (corrupt or altered; run `make models`)", ErrModel, path, sum, f.SHA256)
	}
	verified.Store(key, struct{}{})
	return nil
}

func fileSHA256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DefaultRoot is the model root used when neither a flag nor VIDID_MODELS
// names one: var/models under the working directory.
const DefaultRoot = "var/models"

// Root resolves the model root: the explicit value if set, else
// $VIDID_MODELS, else DefaultRoot.
func Root(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if v := os.Getenv("VIDID_MODELS"); v != "" {
		return v
	}
	return DefaultRoot
}
