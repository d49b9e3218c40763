package assertion

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"vidid/idnum"
)

// Fixed values of the assertion format.
const (
	// Type is the JOSE "typ" header of every assertion (RFC 8725 §3.11
	// explicit typing), so no other JWT can be passed off as one.
	Type = "vidid-assertion+jwt"
	// TrustFramework is verified_claims.verification.trust_framework.
	TrustFramework = "kz_eds"
	// Organization is check_details[].organization.
	Organization = "vidid"
	// EvidenceType and RecordType shape the single evidence item.
	EvidenceType = "electronic_record"
	RecordType   = "population_register"
	// DefaultSource is record.source.name when Claims.Source is empty.
	DefaultSource = "Population register of the Republic of Kazakhstan"
	// MaxLifetime caps exp − iat of every assertion.
	MaxLifetime = 5 * time.Minute
)

// CheckMethod says who decided the match (OpenID Connect for Identity
// Assurance check_method values).
type CheckMethod string

const (
	// MethodBVR: biometric verification by the automatic face match.
	MethodBVR CheckMethod = "bvr"
	// MethodPVR: physical verification by a person — a moderator compared
	// the register photo with the best frames and approved.
	MethodPVR CheckMethod = "pvr"
)

// Claims is an identity assertion in Go form. On the wire it is a JWT whose
// verified_claims object follows OpenID Connect for Identity Assurance 1.0
// (see MarshalJSON for the exact shape); the Go struct is flat.
type Claims struct {
	// Registered claims. Issue sets Issuer, IssuedAt, NotBefore, Expiry and
	// ID, and Audience when it is empty.
	Issuer    string
	Subject   string // the IIN; Issue fills it from Person.IIN when empty
	Audience  []string
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
	ID        string // jti: 128 random bits, base64url

	// SessionID is the verification session ("sid", and
	// verification.verification_process).
	SessionID string
	// Txn identifies the deciding transaction: the attempt id for bvr, the
	// moderation case for pvr ("txn", and check_details[].txn). Issue uses
	// the jti when empty.
	Txn string
	// TrustFramework is set by Issue to TrustFramework.
	TrustFramework string
	// VerifiedAt is when the match was decided (verification.time and
	// check_details[].time); Issue uses iat when zero.
	VerifiedAt time.Time
	Method     CheckMethod
	// Source names the register the person was found in (record.source.name).
	Source   string
	Person   Person
	Evidence Evidence
}

// Person is the verified person as the population register has them.
type Person struct {
	GivenName  string
	FamilyName string
	MiddleName string    // patronymic; may be empty
	BirthDate  time.Time // the date counts, not the time of day
	IIN        string
}

// Evidence is vidid's own account of the match ("vidid_evidence"). It
// carries no score: the assertion passes through the applicant's browser,
// and a score would be a hill-climbing aid for whoever tunes a spoof. The
// scores stay with the attempt in vidid's database, referenced by the
// claims' txn (the attempt id).
type Evidence struct {
	// PolicyVersion is the decision policy the match was judged under.
	PolicyVersion string   `json:"policy_version"`
	Model         string   `json:"embedder_model"`
	Checks        Checks   `json:"checks"`
	Challenges    []string `json:"challenges,omitempty"` // the active challenges passed, in order
	ModeratorID   string   `json:"moderator_id,omitempty"`
}

// Checks says which liveness and injection checks ran on the attempt.
type Checks struct {
	Passive          bool `json:"passive"`
	ActiveChallenges bool `json:"active_challenges"`
	Depth            bool `json:"depth"`
	ScreenColour     bool `json:"screen_colour"`
	Injection        bool `json:"injection"`
}

// Wire shapes.
type wireClaims struct {
	Issuer         string           `json:"iss,omitempty"`
	Subject        string           `json:"sub,omitempty"`
	Audience       jwt.Audience     `json:"aud,omitempty"`
	IssuedAt       *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore      *jwt.NumericDate `json:"nbf,omitempty"`
	Expiry         *jwt.NumericDate `json:"exp,omitempty"`
	ID             string           `json:"jti,omitempty"`
	SessionID      string           `json:"sid,omitempty"`
	Txn            string           `json:"txn,omitempty"`
	VerifiedClaims *wireVerified    `json:"verified_claims,omitempty"`
	Evidence       *Evidence        `json:"vidid_evidence,omitempty"`
}

type wireVerified struct {
	Verification wireVerification `json:"verification"`
	Claims       wirePerson       `json:"claims"`
}

type wireVerification struct {
	TrustFramework string         `json:"trust_framework"`
	Time           string         `json:"time,omitempty"`
	Process        string         `json:"verification_process,omitempty"`
	Evidence       []wireEvidence `json:"evidence"`
}

type wireEvidence struct {
	Type         string            `json:"type"`
	CheckDetails []wireCheckDetail `json:"check_details"`
	Record       wireRecord        `json:"record"`
}

type wireCheckDetail struct {
	CheckMethod  string `json:"check_method"`
	Organization string `json:"organization"`
	Txn          string `json:"txn,omitempty"`
	Time         string `json:"time,omitempty"`
}

type wireRecord struct {
	Type   string     `json:"type"`
	Source wireSource `json:"source"`
}

type wireSource struct {
	Name string `json:"name"`
}

type wirePerson struct {
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	MiddleName string `json:"middle_name,omitempty"`
	BirthDate  string `json:"birthdate,omitempty"`
	IIN        string `json:"iin"`
}

func numericDate(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return jwt.NewNumericDate(t)
}

func fromNumericDate(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time().UTC()
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// MarshalJSON writes the wire form:
//
//	{"iss","sub","aud","iat","nbf","exp","jti","sid","txn",
//	 "verified_claims": {
//	   "verification": {"trust_framework": "kz_eds", "time", "verification_process": sid,
//	     "evidence": [{"type": "electronic_record",
//	       "check_details": [{"check_method": "bvr"|"pvr", "organization": "vidid", "txn", "time"}],
//	       "record": {"type": "population_register", "source": {"name"}}}]},
//	   "claims": {"given_name", "family_name", "middle_name", "birthdate", "iin"}},
//	 "vidid_evidence": {...}}
func (c Claims) MarshalJSON() ([]byte, error) {
	w := wireClaims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  jwt.Audience(c.Audience),
		IssuedAt:  numericDate(c.IssuedAt),
		NotBefore: numericDate(c.NotBefore),
		Expiry:    numericDate(c.Expiry),
		ID:        c.ID,
		SessionID: c.SessionID,
		Txn:       c.Txn,
		VerifiedClaims: &wireVerified{
			Verification: wireVerification{
				TrustFramework: c.TrustFramework,
				Time:           rfc3339(c.VerifiedAt),
				Process:        c.SessionID,
				Evidence: []wireEvidence{{
					Type: EvidenceType,
					CheckDetails: []wireCheckDetail{{
						CheckMethod:  string(c.Method),
						Organization: Organization,
						Txn:          c.Txn,
						Time:         rfc3339(c.VerifiedAt),
					}},
					Record: wireRecord{Type: RecordType, Source: wireSource{Name: c.Source}},
				}},
			},
			Claims: wirePerson{
				GivenName:  c.Person.GivenName,
				FamilyName: c.Person.FamilyName,
				MiddleName: c.Person.MiddleName,
				IIN:        c.Person.IIN,
			},
		},
		Evidence: &c.Evidence,
	}
	if !c.Person.BirthDate.IsZero() {
		w.VerifiedClaims.Claims.BirthDate = c.Person.BirthDate.Format(time.DateOnly)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form. It checks JSON types and formats
// only; whether the content is acceptable is for the verifier and its
// policy validators to say.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var w wireClaims
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := Claims{
		Issuer:    w.Issuer,
		Subject:   w.Subject,
		Audience:  []string(w.Audience),
		IssuedAt:  fromNumericDate(w.IssuedAt),
		NotBefore: fromNumericDate(w.NotBefore),
		Expiry:    fromNumericDate(w.Expiry),
		ID:        w.ID,
		SessionID: w.SessionID,
		Txn:       w.Txn,
	}
	if w.Evidence != nil {
		out.Evidence = *w.Evidence
	}
	if vc := w.VerifiedClaims; vc != nil {
		out.TrustFramework = vc.Verification.TrustFramework
		out.Person = Person{
			GivenName:  vc.Claims.GivenName,
			FamilyName: vc.Claims.FamilyName,
			MiddleName: vc.Claims.MiddleName,
			IIN:        vc.Claims.IIN,
		}
		if vc.Claims.BirthDate != "" {
			d, err := time.Parse(time.DateOnly, vc.Claims.BirthDate)
			if err != nil {
				return fmt.Errorf("verified_claims.claims.birthdate: want YYYY-MM-DD")
			}
			out.Person.BirthDate = d
		}
		if vc.Verification.Time != "" {
			t, err := time.Parse(time.RFC3339, vc.Verification.Time)
			if err != nil {
				return fmt.Errorf("verified_claims.verification.time: want RFC 3339")
			}
			out.VerifiedAt = t.UTC()
		}
		if len(vc.Verification.Evidence) > 0 {
			ev := vc.Verification.Evidence[0]
			out.Source = ev.Record.Source.Name
			if len(ev.CheckDetails) > 0 {
				out.Method = CheckMethod(ev.CheckDetails[0].CheckMethod)
			}
		}
	}
	*c = out
	return nil
}

// HasAudience reports whether aud is among c.Audience.
func (c *Claims) HasAudience(aud string) bool {
	for _, a := range c.Audience {
		if a == aud {
			return true
		}
	}
	return false
}

var (
	// idPattern: session ids, txn, jti — opaque, URL-safe, bounded.
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	jtiPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

const maxNameLen = 200

// checkIssuable reports what makes c unfit to sign, as ErrInvalidClaims.
// Issue has already filled the registered claims.
func (c *Claims) checkIssuable() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidClaims}, args...)...)
	}
	if err := idnum.ValidateIIN(c.Person.IIN); err != nil {
		return bad("person: %v", err)
	}
	if c.Subject != c.Person.IIN {
		return bad("sub differs from the person's IIN")
	}
	if !idPattern.MatchString(c.SessionID) {
		return bad("session id missing or not an opaque id")
	}
	if !idPattern.MatchString(c.Txn) {
		return bad("txn not an opaque id")
	}
	switch c.Method {
	case MethodBVR:
		if c.Evidence.ModeratorID != "" {
			return bad("moderator id given for an automatic (bvr) match")
		}
	case MethodPVR:
		if !idPattern.MatchString(c.Evidence.ModeratorID) {
			return bad("a moderator (pvr) decision needs the moderator id")
		}
	default:
		return bad("check method %q, want bvr or pvr", c.Method)
	}
	p := c.Person
	if strings.TrimSpace(p.FamilyName) == "" || strings.TrimSpace(p.GivenName) == "" {
		return bad("person needs a family name and a given name")
	}
	for _, n := range []string{p.FamilyName, p.GivenName, p.MiddleName, c.Source} {
		if len(n) > maxNameLen || strings.ContainsFunc(n, isControl) {
			return bad("a name is longer than %d bytes or holds control characters", maxNameLen)
		}
	}
	if p.BirthDate.IsZero() {
		return bad("person needs a birth date")
	}
	for _, s := range append([]string{c.Evidence.PolicyVersion, c.Evidence.Model}, c.Evidence.Challenges...) {
		if len(s) > maxNameLen || strings.ContainsFunc(s, isControl) {
			return bad("evidence strings must be short and printable")
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
