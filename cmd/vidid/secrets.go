package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// loadKey reads a hex key of n bytes from dir/name. When the file does not
// exist and create is true it makes one (mode 0600) — convenient for the
// demo and tests; production mounts the files (or sets the environment
// variable VIDID_<NAME>, which wins) and runs with --create-secrets=false.
func loadKey(dir, name string, n int, create bool) ([]byte, error) {
	env := "VIDID_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if v := os.Getenv(env); v != "" {
		return decodeKey(env, v, n)
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return decodeKey(path, strings.TrimSpace(string(b)), n)
	case !errors.Is(err, fs.ErrNotExist) || !create:
		return nil, fmt.Errorf("read secret %s (or set %s): %w", path, env, err)
	}
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create secrets dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return loadKey(dir, name, n, false)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

func decodeKey(src, v string, n int) ([]byte, error) {
	k, err := hex.DecodeString(v)
	if err != nil || len(k) != n {
		return nil, fmt.Errorf("secret %s: want %d bytes as hex", src, n)
	}
	return k, nil
}
