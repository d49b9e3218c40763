package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"vidid/audit"
	"vidid/register"
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

// optionalKey loads a key that may be absent (a previous key during a
// rotation): none gives an empty list, never a created file.
func optionalKey(dir, name string, n int) ([][]byte, error) {
	k, err := loadKey(dir, name, n, false)
	switch {
	case err == nil:
		return [][]byte{k}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	}
	return nil, err
}

// openAuditLog returns the audit log writer keyed by the secret
// "audit-subject-key" (the HMAC key of the subject hashes).
func openAuditLog(secretsDir string, create bool) (*audit.Log, error) {
	key, err := loadKey(secretsDir, "audit-subject-key", 32, create)
	if err != nil {
		return nil, err
	}
	return audit.New(audit.Config{SubjectKey: key})
}

// openRegister opens the population register with its key (the secret
// "register-key": photos and cached embeddings are sealed with it), refuses
// a key other than the one the register's data is sealed under, and seals
// any photos still stored in the clear by a vidid older than migration 008.
//
// Rotating the key: put the old key in "register-key-previous" and a new one
// in "register-key", and start any register command (say `vidid register
// list`). It reseals every photo under the new key and drops the cached
// embeddings sealed under the old one. Then remove the previous key.
func openRegister(ctx context.Context, pool *pgxpool.Pool, secretsDir string, create bool, auditLog *audit.Log, log *slog.Logger) (*register.PG, error) {
	key, err := loadKey(secretsDir, "register-key", register.KeySize, create)
	if err != nil {
		return nil, err
	}
	previous, err := optionalKey(secretsDir, "register-key-previous", register.KeySize)
	if err != nil {
		return nil, err
	}
	r, err := register.NewPG(pool, key, previous...)
	if err != nil {
		return nil, err
	}
	r.WithAudit(auditLog) // imports, seeds and reseals are recorded
	if err := r.CheckKey(ctx); err != nil {
		return nil, err
	}
	n, err := r.Reseal(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 && log != nil {
		log.Info("register photos sealed under the current register key", "n", n, "key", r.KeyID())
	}
	return r, nil
}

// secretFlags: where the key files are, for commands that need one.
type secretFlags struct {
	dir    string
	create bool
}

func (f *secretFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "secrets", envOr("VIDID_SECRETS", "var/secrets"), "`dir` of key files (here: register-key, which seals register photos and embeddings, during a key rotation register-key-previous, and audit-subject-key); VIDID_<NAME> variables win")
	fs.BoolVar(&f.create, "create-secrets", true, "create a missing key file (set false in production, where keys are provisioned)")
}

// register opens the register for a command-line tool (`vidid register …`,
// `vidid verify`): its audit log and register keys from these flags.
func (f *secretFlags) register(ctx context.Context, pool *pgxpool.Pool) (*register.PG, error) {
	auditLog, err := openAuditLog(f.dir, f.create)
	if err != nil {
		return nil, err
	}
	return openRegister(ctx, pool, f.dir, f.create, auditLog, nil)
}
