package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

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

// Anchor is a head published earlier (the seq and hash `vidid audit
// verify` printed, kept outside the database): the chain must still hold
// that record with that hash. Anchors are what reveal a truncated tail,
// which the chain alone cannot show.
type Anchor struct {
	Seq  int64
	Hash []byte
}

// ParseAnchor reads an anchor written as SEQ:HEXHASH.
func ParseAnchor(s string) (Anchor, error) {
	seq, h, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:HASH with SEQ >= 1", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || len(hash) != hashLen {
		return Anchor{}, fmt.Errorf("anchor %q: the hash must be %d hex digits", s, 2*hashLen)
	}
	return Anchor{Seq: n, Hash: hash}, nil
}

// String is the SEQ:HEXHASH form ParseAnchor reads.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Seq, hex.EncodeToString(a.Hash)) }

// Verify re-reads the whole audit log in seq order and checks that seq
// runs 1, 2, 3 … without gaps, that each prev_hash equals the previous
// record's hash, that each hash matches the record's content, and that
// every anchor's record is still there with its published hash. It returns
// a Report and, when the chain is broken, an error wrapping ErrTampered; any
// other error is a database failure.
func Verify(ctx context.Context, db Querier, anchors ...Anchor) (Report, error) {
	want := make(map[int64][]byte, len(anchors))
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
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
		if h, ok := want[r.Seq]; ok && !bytes.Equal(h, r.Hash) {
			rep.FirstBadSeq, rep.Problem = r.Seq, "hash differs from the published anchor: the log was rewritten from here or earlier"
			return rep, fmt.Errorf("%w at seq %d: %s", ErrTampered, r.Seq, rep.Problem)
		}
		rep.LastSeq, rep.Head = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read audit log: %w", err)
	}
	for _, a := range anchors {
		if a.Seq > rep.LastSeq {
			rep.FirstBadSeq = rep.LastSeq + 1
			rep.Problem = fmt.Sprintf("the log ends at seq %d but a head at seq %d was published: records were removed from the end", rep.LastSeq, a.Seq)
			return rep, fmt.Errorf("%w: %s", ErrTampered, rep.Problem)
		}
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
