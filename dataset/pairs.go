// Package dataset loads the labelled data vidid is measured on: face folders
// (`<root>/<source>-<person>/<n>.jpg`), pair lists, and attack sets.
package dataset

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pair is one labelled comparison: two image paths and whether they show
// the same person.
type Pair struct {
	A, B string
	Same bool
}

// ReadPairs parses a pair list: one pair a line, `1|0 <tab> a <tab> b`,
// paths relative to root; `#` starts a comment line.
func ReadPairs(r io.Reader, root string) ([]Pair, error) {
	var out []Pair
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		c := strings.Split(t, "\t")
		if len(c) != 3 || (c[0] != "0" && c[0] != "1") {
			return nil, fmt.Errorf("pairs line %d: want `1|0<TAB>a<TAB>b`, got %q", line, t)
		}
		for _, p := range c[1:] {
			if filepath.IsAbs(p) || strings.Contains(p, "..") {
				return nil, fmt.Errorf("pairs line %d: path %q must be relative, inside the root", line, p)
			}
		}
		out = append(out, Pair{A: filepath.Join(root, c[1]), B: filepath.Join(root, c[2]), Same: c[0] == "1"})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pairs: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pairs: no pairs")
	}
	return out, nil
}

// LoadPairs reads a pair list file; paths are relative to its folder.
func LoadPairs(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load pairs: %w", err)
	}
	defer f.Close()
	return ReadPairs(f, filepath.Dir(path))
}

// Identity is one person's images in a face folder.
type Identity struct {
	Name   string // folder name, e.g. lfw-Anthony_Fauci
	Images []string
}

// LoadIdentities lists `<root>/<person>/*.{jpg,jpeg,png}` sorted by name;
// a person folder may be a symbolic link.
func LoadIdentities(root string) ([]Identity, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	var out []Identity
	for _, e := range ents {
		if !e.IsDir() && !isDirLink(filepath.Join(root, e.Name()), e) {
			continue
		}
		var imgs []string
		files, err := os.ReadDir(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load identities: %w", err)
		}
		for _, f := range files {
			switch strings.ToLower(filepath.Ext(f.Name())) {
			case ".jpg", ".jpeg", ".png":
				imgs = append(imgs, filepath.Join(root, e.Name(), f.Name()))
			}
		}
		if len(imgs) > 0 {
			sort.Strings(imgs)
			out = append(out, Identity{Name: e.Name(), Images: imgs})
		}
	}
	return out, nil
}

// SampleIdentities returns a seeded random sample of n identities, in
// their original order (all of them when n <= 0 or n >= len(ids)).
func SampleIdentities(ids []Identity, n int, seed uint64) []Identity {
	if n <= 0 || n >= len(ids) {
		return ids
	}
	idx := rand.New(rand.NewPCG(seed, 0)).Perm(len(ids))[:n]
	sort.Ints(idx)
	out := make([]Identity, n)
	for i, k := range idx {
		out[i] = ids[k]
	}
	return out
}

// isDirLink reports whether e is a symbolic link to a folder.
func isDirLink(path string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
