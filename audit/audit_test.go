package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidid/audit"
	"vidid/internal/pgtest"
)

const testIIN = "880315300452"

func newLog(t *testing.T) *audit.Log {
	t.Helper()
	l, err := audit.New(audit.Config{SubjectKey: []byte("test subject key, 32 bytes long!")})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// appendN appends n varied records, each in its own transaction.
func appendN(t *testing.T, pool *pgxpool.Pool, l *audit.Log, n int) {
	t.Helper()
	ctx := context.Background()
	kinds := []audit.Kind{audit.KindSessionCreated, audit.KindAttemptResult, audit.KindLockout, audit.KindSessionDecided, audit.KindAssertionIssued}
	for i := range n {
		e := audit.Entry{
			Kind:      kinds[i%len(kinds)],
			SessionID: fmt.Sprintf("0000000%d-AAAA-4bbb-8ccc-0123456789ab", i%10),
			Subject:   testIIN,
			Data: map[string]any{
				"i": i, "score": 0.1 * float64(i), "tiny": 1e-7, "big": int64(1) << 60,
				"text": "Сәлем <ok> & \"quoted\"", "list": []any{i, "x", nil, true},
				"nested": map[string]any{"z": 1, "a": []int{3, 2, 1}},
			},
		}
		if i%3 == 0 {
			e.SessionID, e.Subject = "", ""
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := l.Append(ctx, tx, e)
			return err
		}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestVerifyIntactChain(t *testing.T) {
	pool := pgtest.New(t)
	l := newLog(t)
	ctx := context.Background()
	rep, err := audit.Verify(ctx, pool)
	if err != nil || !rep.Intact || rep.Records != 0 {
		t.Fatalf("empty log: %+v, %v", rep, err)
	}
	appendN(t, pool, l, 12)
	rep, err = audit.Verify(ctx, pool)
	if err != nil {
		t.Fatalf("Verify: %v (%+v)", err, rep)
	}
	if !rep.Intact || rep.Records != 12 || rep.LastSeq != 12 || rep.FirstBadSeq != 0 || len(rep.Head) != 32 {
		t.Fatalf("report = %+v", rep)
	}
	// The raw IIN appears nowhere; its keyed hash does.
	var raw, hashed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE data::text LIKE '%' || $1 || '%'),
		count(*) FILTER (WHERE subject_hash = $2) FROM audit_log`, testIIN, l.SubjectHash(testIIN)).Scan(&raw, &hashed); err != nil {
		t.Fatal(err)
	}
	if raw != 0 || hashed != 8 {
		t.Errorf("records with raw IIN = %d (want 0), with its hash = %d (want 8)", raw, hashed)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name      string
		tamper    []string
		wantFirst int64
	}{
		{"update data", []string{`UPDATE audit_log SET data = jsonb_set(data, '{score}', '0.99') WHERE seq = 4`}, 4},
		{"update kind", []string{`UPDATE audit_log SET kind = 'session_created' WHERE seq = 2`}, 2},
		{"update time", []string{`UPDATE audit_log SET at = at - interval '1 hour' WHERE seq = 6`}, 6},
		{"update subject", []string{`UPDATE audit_log SET subject_hash = NULL WHERE seq = 5`}, 5},
		{"delete middle", []string{`DELETE FROM audit_log WHERE seq = 3`}, 4},
		{"delete first", []string{`DELETE FROM audit_log WHERE seq = 1`}, 2},
		{"reorder two records", []string{
			`UPDATE audit_log SET seq = 1000 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_log SET seq = 3 WHERE seq = 1000`,
		}, 2},
		{"insert forged record", []string{
			`INSERT INTO audit_log (seq, at, kind, data, prev_hash, hash)
			 SELECT 9, now(), 'assertion_issued', '{"forged":true}', hash, sha256('x') FROM audit_log WHERE seq = 8`,
		}, 9},
		{"edit then re-hash the edited record only", []string{
			`UPDATE audit_log SET data = '{}', hash = sha256(hash) WHERE seq = 3`,
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := pgtest.New(t)
			appendN(t, pool, newLog(t), 8)
			// A superuser can switch the append-only triggers off; Verify
			// must still notice.
			exec(t, pool, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
			for _, sql := range tc.tamper {
				exec(t, pool, sql)
			}
			exec(t, pool, `ALTER TABLE audit_log ENABLE TRIGGER USER`)
			rep, err := audit.Verify(context.Background(), pool)
			if !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("Verify error = %v, want ErrTampered (report %+v)", err, rep)
			}
			if rep.Intact || rep.FirstBadSeq != tc.wantFirst || rep.Problem == "" {
				t.Errorf("report = %+v, want first bad seq %d", rep, tc.wantFirst)
			}
		})
	}
}

func TestAppendOnlyTrigger(t *testing.T) {
	pool := pgtest.New(t)
	appendN(t, pool, newLog(t), 2)
	for _, sql := range []string{
		`UPDATE audit_log SET data = '{}' WHERE seq = 1`,
		`DELETE FROM audit_log WHERE seq = 2`,
		`TRUNCATE audit_log`,
	} {
		t.Run(strings.Fields(sql)[0], func(t *testing.T) {
			_, err := pool.Exec(context.Background(), sql)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: err = %v, want append-only refusal", sql, err)
			}
		})
	}
	if rep, err := audit.Verify(context.Background(), pool); err != nil || rep.Records != 2 {
		t.Fatalf("after refused changes: %+v, %v", rep, err)
	}
}

// Concurrent appenders in separate transactions never fork the chain, and
// rolled-back appends leave neither a record nor a gap.
func TestConcurrentAppendsAndRollback(t *testing.T) {
	pool := pgtest.New(t)
	l := newLog(t)
	ctx := context.Background()
	const workers, each = 8, 10
	errRollback := errors.New("rollback")
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := l.Append(ctx, tx, audit.Entry{Kind: audit.KindAttemptResult, Data: map[string]int{"w": w, "i": i}}); err != nil {
						return err
					}
					if i%5 == 4 {
						return errRollback
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollback) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, pool)
	if err != nil {
		t.Fatalf("Verify: %v (%+v)", err, rep)
	}
	if want := int64(workers * each * 4 / 5); rep.Records != want || rep.LastSeq != want {
		t.Fatalf("records = %d, last seq = %d, want %d", rep.Records, rep.LastSeq, want)
	}
}

func TestAppendRejectsBadEntries(t *testing.T) {
	pool := pgtest.New(t)
	l := newLog(t)
	ctx := context.Background()
	tests := []struct {
		name string
		e    audit.Entry
	}{
		{"unknown kind", audit.Entry{Kind: "password_reset"}},
		{"data not an object", audit.Entry{Kind: audit.KindLockout, Data: []int{1, 2}}},
		{"data not marshalable", audit.Entry{Kind: audit.KindLockout, Data: map[string]any{"c": make(chan int)}}},
		{"NUL in data", audit.Entry{Kind: audit.KindLockout, Data: map[string]string{"s": "a\x00b"}}},
		{"session id not a uuid", audit.Entry{Kind: audit.KindLockout, SessionID: "42"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				_, err := l.Append(ctx, tx, tc.e)
				return err
			})
			if !errors.Is(err, audit.ErrInvalidEntry) {
				t.Fatalf("err = %v, want ErrInvalidEntry", err)
			}
		})
	}
	if rep, err := audit.Verify(ctx, pool); err != nil || rep.Records != 0 {
		t.Fatalf("bad entries left records: %+v, %v", rep, err)
	}
}

func TestNewRequiresKey(t *testing.T) {
	if _, err := audit.New(audit.Config{SubjectKey: []byte("short")}); !errors.Is(err, audit.ErrConfig) {
		t.Fatalf("err = %v, want ErrConfig", err)
	}
}

func BenchmarkAppend(b *testing.B) {
	pool := pgtest.New(b)
	l, _ := audit.New(audit.Config{SubjectKey: []byte("0123456789abcdef")})
	ctx := context.Background()
	for b.Loop() {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := l.Append(ctx, tx, audit.Entry{Kind: audit.KindAttemptResult, Subject: testIIN, Data: map[string]any{"score": 0.5}})
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// A published head reveals a truncated tail and a rewritten history, which
// the chain alone cannot show.
func TestVerifyAnchors(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	appendN(t, pool, newLog(t), 6)
	rep, err := audit.Verify(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	head := audit.Anchor{Seq: rep.LastSeq, Hash: rep.Head}
	parsed, err := audit.ParseAnchor(head.String())
	if err != nil || parsed.String() != head.String() {
		t.Fatalf("ParseAnchor(%s) = %v, %v", head, parsed, err)
	}
	if rep, err := audit.Verify(ctx, pool, head); err != nil || !rep.Intact {
		t.Fatalf("intact log with its own head: %+v, %v", rep, err)
	}
	appendN(t, pool, newLog(t), 2) // the log grows past the anchor: still fine
	if _, err := audit.Verify(ctx, pool, head); err != nil {
		t.Fatalf("grown log: %v", err)
	}

	// Cut the last three records (the anchor's record among them).
	exec(t, pool, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
	exec(t, pool, `DELETE FROM audit_log WHERE seq > 5`)
	exec(t, pool, `ALTER TABLE audit_log ENABLE TRIGGER USER`)
	if rep, err := audit.Verify(ctx, pool); err != nil || !rep.Intact {
		t.Fatalf("without an anchor a truncated log looks intact: %+v, %v", rep, err)
	}
	rep, err = audit.Verify(ctx, pool, head)
	if !errors.Is(err, audit.ErrTampered) || rep.Intact || rep.FirstBadSeq != 6 || !strings.Contains(rep.Problem, "removed from the end") {
		t.Fatalf("truncated log with the anchor: %+v, %v", rep, err)
	}

	// An anchor whose hash the log no longer has.
	wrong := audit.Anchor{Seq: 3, Hash: bytes.Repeat([]byte{1}, 32)}
	rep, err = audit.Verify(ctx, pool, wrong)
	if !errors.Is(err, audit.ErrTampered) || rep.FirstBadSeq != 3 {
		t.Fatalf("rewritten record: %+v, %v", rep, err)
	}
	for _, s := range []string{"", "5", "0:" + strings.Repeat("ab", 32), "x:ab", "5:abcd", "5:" + strings.Repeat("zz", 32)} {
		if _, err := audit.ParseAnchor(s); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", s)
		}
	}
}
