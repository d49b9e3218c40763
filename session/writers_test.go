package session_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"vidid/internal/testenv"
)

// sessionsWrite matches an SQL statement that writes the sessions table.
var sessionsWrite = regexp.MustCompile(`(?i)\b(?:update(?:\s+only)?|insert\s+into|delete\s+from)\s+(?:public\.)?"?sessions"?\b`)

// sessionsWriters are the folders (slash-separated, from the repository
// root) whose non-test Go files may write the sessions table.
var sessionsWriters = []string{"session/", "store/migrations/"}

func TestSessionsWriteMatcher(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"`UPDATE sessions SET claimed_by = NULL`", true},
		{"`\n\t\tUPDATE sessions\n\t\tSET status = $2`", true},
		{"`insert into sessions (iin) VALUES ($1)`", true},
		{"`INSERT INTO public.sessions(iin)`", true},
		{"`UPDATE ONLY \"sessions\" SET x = 1`", true},
		{"`DELETE FROM sessions WHERE id = $1`", true},
		{"`SELECT status FROM sessions WHERE id = $1 FOR UPDATE`", false},
		{"`UPDATE session_attempts SET counted = false`", false},
		{"`INSERT INTO sessions_archive (id) VALUES ($1)`", false},
		{"`UPDATE subject_guards SET failures = 0`", false},
	} {
		if got := sessionsWrite.MatchString(tc.src); got != tc.want {
			t.Errorf("match(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestOnlySessionWritesSessions: package session owns the sessions table;
// others (moderation, api, …) read it and call session's methods to change
// it, so every write goes through its locking and audit rules.
func TestOnlySessionWritesSessions(t *testing.T) {
	root := testenv.RepoRoot()
	var ownWrites int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		allowed := false
		for _, dir := range sessionsWriters {
			allowed = allowed || strings.HasPrefix(rel, dir)
		}
		for _, loc := range sessionsWrite.FindAllIndex(src, -1) {
			if allowed {
				ownWrites++
				continue
			}
			line := 1 + strings.Count(string(src[:loc[0]]), "\n")
			t.Errorf("%s:%d writes the sessions table (%q): call a session.PG method instead", rel, line, src[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ownWrites == 0 {
		t.Fatal("found no write to sessions even in package session: the scan is broken")
	}
}
