package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Querier is what Verify reads through: a *pgxpool.Pool, *pgx.Conn or pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Report is the outcome of Verify.
type Report struct {
	// Records is how many records were read.
	Records int64
	// LastSeq and Head are the seq and hash of the last record that
	// verified; publish them elsewhere to detect a truncated tail later.
	LastSeq int64
	Head    []byte
	// Intact is true when every record verified.
	Intact bool
	// FirstBadSeq is the seq of the first record that does not fit the
	// chain (for a deleted record: the seq of the record after the gap);
	// 0 when Intact.
	FirstBadSeq int64
	// Problem says what is wrong with FirstBadSeq.
	Problem string
}

// Verify re-reads the whole audit log in seq order and checks that seq
// runs 1, 2, 3 … without gaps, that each prev_hash equals the previous
// record's hash and that each hash matches the record's content. It returns
// a Report and, when the chain is broken, an error wrapping ErrTampered; any
// other error is a database failure.
func Verify(ctx context.Context, db Querier) (Report, error) {
	rows, err := db.Query(ctx, `
		SELECT seq, at, kind, coalesce(session_id::text, ''), subject_hash, data::text, prev_hash, hash
		FROM audit_log ORDER BY seq`)
	if err != nil {
		return Report{}, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	rep := Report{Head: make([]byte, hashLen)}
	for rows.Next() {
		var r Record
		var kind, data string
		if err := rows.Scan(&r.Seq, &r.At, &kind, &r.SessionID, &r.SubjectHash, &data, &r.PrevHash, &r.Hash); err != nil {
			return rep, fmt.Errorf("read audit record: %w", err)
		}
		rep.Records++
		r.Kind = Kind(kind)
		if problem := check(&r, data, rep.LastSeq, rep.Head); problem != "" {
			rep.FirstBadSeq, rep.Problem = r.Seq, problem
			return rep, fmt.Errorf("%w at seq %d: %s", ErrTampered, r.Seq, problem)
		}
		rep.LastSeq, rep.Head = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read audit log: %w", err)
	}
	rep.Intact = true
	return rep, nil
}

// check returns what is wrong with r given the previous good record, or "".
func check(r *Record, data string, prevSeq int64, prevHash []byte) string {
	switch {
	case r.Seq != prevSeq+1:
		return fmt.Sprintf("seq follows %d: record(s) missing or renumbered", prevSeq)
	case !bytes.Equal(r.PrevHash, prevHash):
		return "prev_hash does not match the previous record's hash"
	case !r.Kind.Valid():
		return fmt.Sprintf("unknown kind %q", r.Kind)
	}
	c, err := canonicalJSON([]byte(data))
	if err != nil {
		return "data is not valid JSON: " + err.Error()
	}
	r.Data = c
	if !bytes.Equal(chainHash(*r), r.Hash) {
		return "hash does not match the record's content"
	}
	return ""
}
