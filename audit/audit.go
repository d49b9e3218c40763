package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"vidid/internal/ids"
)

// Kind names what a record is about. The set is closed: Append refuses
// other kinds, so readers can switch on it.
type Kind string

// Record kinds.
const (
	KindSessionCreated     Kind = "session_created"
	KindConsent            Kind = "consent"
	KindAttemptResult      Kind = "attempt_result"
	KindLockout            Kind = "lockout"
	KindSessionDecided     Kind = "session_decided"
	KindAssertionIssued    Kind = "assertion_issued"
	KindAssertionConsumed  Kind = "assertion_consumed"
	KindCertificateIssued  Kind = "certificate_issued"
	KindModerationDecision Kind = "moderation_decision"
	// KindRegisterWritten: citizens were imported or seeded into the
	// population register (one record per import, not per citizen).
	KindRegisterWritten Kind = "register_written"
	// KindRegisterResealed: register photos were sealed under the current
	// register key (clear photos from before migration 008, or a key
	// rotation).
	KindRegisterResealed Kind = "register_resealed"
	// KindCaseOpened: a moderator opened a case (register photo, frames
	// and scores of a session in moderation). Every access to that
	// biometric data is recorded here.
	KindCaseOpened Kind = "case_opened"
	// KindModeratorChanged: a moderator account was created or disabled.
	KindModeratorChanged Kind = "moderator_changed"
	// KindCaseFirstApproval: the first of the two approvals a case needs
	// under the four-eyes rule.
	KindCaseFirstApproval Kind = "case_first_approval"
	// KindPolicyProposed: a decision policy version was written (seeded,
	// proposed from a report, or derived from flags).
	KindPolicyProposed Kind = "policy_proposed"
	// KindPolicyActivated: a decision policy version became the active one.
	KindPolicyActivated Kind = "policy_activated"
	// KindVerifyRequest: a relying party asked /v1/verify about an IIN;
	// Data holds the client and the answer it got.
	KindVerifyRequest Kind = "verify_request"
)

var kinds = map[Kind]bool{
	KindSessionCreated: true, KindConsent: true, KindAttemptResult: true, KindLockout: true,
	KindSessionDecided: true, KindAssertionIssued: true, KindAssertionConsumed: true,
	KindCertificateIssued: true, KindModerationDecision: true,
	KindRegisterWritten: true, KindRegisterResealed: true,
	KindCaseOpened: true, KindModeratorChanged: true, KindCaseFirstApproval: true,
	KindPolicyProposed: true, KindPolicyActivated: true, KindVerifyRequest: true,
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return kinds[k] }

// advisoryKey is the pg_advisory_xact_lock key that serialises appenders
// ("vidid.au" as a big-endian int64).
const advisoryKey int64 = 0x7669646964_2e6175

// hashLen is the length of prev_hash and hash (SHA-256).
const hashLen = sha256.Size

// Entry is what a caller appends.
type Entry struct {
	Kind Kind
	// SessionID is the verification session the record belongs to, if any
	// (a UUID string); empty for none.
	SessionID string
	// Subject is the applicant's IIN, if any. Only its keyed hash is stored.
	Subject string
	// Data holds the details, marshalled with encoding/json; it must
	// marshal to a JSON object (nil means {}). Never put raw biometrics or
	// a full IIN in it.
	Data any
}

// Record is one stored audit record.
type Record struct {
	Seq         int64
	At          time.Time
	Kind        Kind
	SessionID   string
	SubjectHash []byte
	Data        json.RawMessage
	PrevHash    []byte
	Hash        []byte
}

// Config configures a Log.
type Config struct {
	// SubjectKey is the HMAC-SHA256 key for subject hashes (at least 16
	// bytes). A plain hash of a 12-digit IIN could be reversed by trying
	// every IIN, so a key kept outside the database is required.
	SubjectKey []byte
}

// Log appends to the audit_log table. It holds no connection: records are
// written inside the caller's transaction.
type Log struct {
	key []byte
}

// New returns a Log.
func New(cfg Config) (*Log, error) {
	if len(cfg.SubjectKey) < 16 {
		return nil, fmt.Errorf("%w: subject key has %d bytes, need at least 16", ErrConfig, len(cfg.SubjectKey))
	}
	return &Log{key: bytes.Clone(cfg.SubjectKey)}, nil
}

// SubjectHash returns the stored form of an IIN, for looking records up.
func (l *Log) SubjectHash(iin string) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(iin))
	return m.Sum(nil)
}

// Append adds e at the end of the chain inside tx and returns the record.
// It takes a transaction-scoped advisory lock held until tx ends, so call it
// as the last statement of a transaction.
func (l *Log) Append(ctx context.Context, tx pgx.Tx, e Entry) (Record, error) {
	if !e.Kind.Valid() {
		return Record{}, fmt.Errorf("%w: unknown kind %q", ErrInvalidEntry, e.Kind)
	}
	if e.SessionID != "" && !ids.IsUUID(e.SessionID) {
		return Record{}, fmt.Errorf("%w: session id is not a UUID", ErrInvalidEntry)
	}
	data, err := marshalData(e.Data)
	if err != nil {
		return Record{}, err
	}
	r := Record{Kind: e.Kind, SessionID: strings.ToLower(e.SessionID), Data: data}
	if e.Subject != "" {
		r.SubjectHash = l.SubjectHash(e.Subject)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryKey); err != nil {
		return Record{}, fmt.Errorf("lock audit log: %w", err)
	}
	var lastSeq *int64
	var lastHash []byte
	err = tx.QueryRow(ctx, `
		SELECT clock_timestamp(), l.seq, l.hash
		FROM (SELECT 1) one
		LEFT JOIN LATERAL (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) l ON true`).
		Scan(&r.At, &lastSeq, &lastHash)
	if err != nil {
		return Record{}, fmt.Errorf("read audit head: %w", err)
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Seq = 1
	r.PrevHash = make([]byte, hashLen)
	if lastSeq != nil {
		r.Seq = *lastSeq + 1
		r.PrevHash = lastHash
	}
	r.Hash = chainHash(r)
	_, err = tx.Exec(ctx, `
		INSERT INTO audit_log (seq, at, kind, session_id, subject_hash, data, prev_hash, hash)
		VALUES ($1, $2, $3, $4::uuid, $5, $6::jsonb, $7, $8)`,
		r.Seq, r.At, string(r.Kind), nullString(r.SessionID), r.SubjectHash, string(r.Data), r.PrevHash, r.Hash)
	if err != nil {
		return Record{}, fmt.Errorf("append audit record: %w", err)
	}
	return r, nil
}

func marshalData(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal data: %w", ErrInvalidEntry, err)
	}
	c, err := canonicalJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	if len(c) == 0 || c[0] != '{' {
		return nil, fmt.Errorf("%w: data must be a JSON object", ErrInvalidEntry)
	}
	if bytes.Contains(c, []byte(`\u0000`)) {
		return nil, fmt.Errorf("%w: data contains a NUL character", ErrInvalidEntry)
	}
	return c, nil
}

// chainHash computes SHA-256(prev_hash || canonical record). r.Data must
// already be canonical.
func chainHash(r Record) []byte {
	h := sha256.New()
	h.Write(r.PrevHash)
	h.Write(canonicalRecord(r))
	return h.Sum(nil)
}

// canonicalRecord is the hashed form of a record, with fields in a fixed
// order: {"seq":…,"at":"…","kind":"…","session_id":…,"subject_hash":…,"data":…}.
func canonicalRecord(r Record) []byte {
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(r.Seq, 10))
	b.WriteString(`,"at":"`)
	b.WriteString(r.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
	b.WriteString(`","kind":`)
	writeJSONString(&b, string(r.Kind))
	b.WriteString(`,"session_id":`)
	if r.SessionID == "" {
		b.WriteString("null")
	} else {
		writeJSONString(&b, r.SessionID)
	}
	b.WriteString(`,"subject_hash":`)
	if r.SubjectHash == nil {
		b.WriteString("null")
	} else {
		b.WriteByte('"')
		b.WriteString(hex.EncodeToString(r.SubjectHash))
		b.WriteByte('"')
	}
	b.WriteString(`,"data":`)
	b.Write(r.Data)
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
