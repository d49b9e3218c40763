package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Cache keeps acquisitions on disk, one JSON-lines file per acquirer id,
// keyed by the sha256 of the image file: a rerun over the same files with
// the same model (and acquisition rule, which is part of the id) reads
// them back instead of running the models. A torn last line is skipped.
type Cache struct {
	dir string
	mu  sync.Mutex
	m   map[string]map[string]Acquisition // id → sha → acquisition
	w   map[string]*os.File
}

// OpenCache opens (creating) a cache folder.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open bench cache: %w", err)
	}
	return &Cache{dir: dir, m: map[string]map[string]Acquisition{}, w: map[string]*os.File{}}, nil
}

// Dir is the cache folder.
func (c *Cache) Dir() string { return c.dir }

type cacheLine struct {
	SHA string      `json:"sha"`
	Vec string      `json:"vec,omitempty"` // float32 little endian, base64
	Acq Acquisition `json:"acq"`
}

func (c *Cache) file(id string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, id)
	return filepath.Join(c.dir, safe+".jsonl")
}

// load reads id's file once.
func (c *Cache) load(id string) (map[string]Acquisition, error) {
	if m, ok := c.m[id]; ok {
		return m, nil
	}
	m := map[string]Acquisition{}
	c.m[id] = m
	f, err := os.Open(c.file(id))
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bench cache: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l cacheLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l.Vec != "" {
			b, err := base64.StdEncoding.DecodeString(l.Vec)
			if err != nil || len(b)%4 != 0 {
				continue
			}
			l.Acq.Vector = make([]float32, len(b)/4)
			for i := range l.Acq.Vector {
				l.Acq.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		m[l.SHA] = l.Acq
	}
	return m, sc.Err()
}

// Get returns the cached acquisition of the file with hash sha.
func (c *Cache) Get(id, sha string) (Acquisition, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.load(id)
	if err != nil {
		return Acquisition{}, false, err
	}
	a, ok := m[sha]
	return a, ok, nil
}

// Put stores an acquisition.
func (c *Cache) Put(id, sha string, a Acquisition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.load(id)
	if err != nil {
		return err
	}
	m[sha] = a
	f := c.w[id]
	if f == nil {
		if f, err = os.OpenFile(c.file(id), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return fmt.Errorf("write bench cache: %w", err)
		}
		c.w[id] = f
	}
	l := cacheLine{SHA: sha, Acq: a}
	if len(a.Vector) > 0 {
		b := make([]byte, 4*len(a.Vector))
		for i, v := range a.Vector {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		l.Vec = base64.StdEncoding.EncodeToString(b)
	}
	l.Acq.Vector = nil
	line, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write bench cache: %w", err)
	}
	return nil
}

// Close closes the cache files.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for id, f := range c.w {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.w, id)
	}
	return first
}

// FileSHA256 returns the hex sha256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
