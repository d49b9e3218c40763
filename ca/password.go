package ca

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Password rules for the key store (PKCS#12) password.
const (
	MinPasswordRunes = 8
	MaxPasswordBytes = 128
)

// PasswordProblem names one broken rule; the HTTP layer turns it into a
// localised message.
type PasswordProblem string

const (
	PasswordTooShort    PasswordProblem = "too_short"     // fewer than MinPasswordRunes characters
	PasswordTooLong     PasswordProblem = "too_long"      // more than MaxPasswordBytes bytes
	PasswordInvalid     PasswordProblem = "invalid_chars" // not UTF-8, or control characters
	PasswordRepetitive  PasswordProblem = "repetitive"    // one character repeated, or a run like 12345678
	PasswordContainsIIN PasswordProblem = "contains_iin"  // holds the applicant's IIN
)

// PasswordError says why a password was refused. It wraps ErrWeakPassword.
type PasswordError struct {
	Problem PasswordProblem
}

func (e *PasswordError) Error() string {
	switch e.Problem {
	case PasswordTooShort:
		return fmt.Sprintf("%v: fewer than %d characters", ErrWeakPassword, MinPasswordRunes)
	case PasswordTooLong:
		return fmt.Sprintf("%v: longer than %d bytes", ErrWeakPassword, MaxPasswordBytes)
	case PasswordInvalid:
		return fmt.Sprintf("%v: contains control characters or invalid text", ErrWeakPassword)
	case PasswordRepetitive:
		return fmt.Sprintf("%v: a single repeated character or a simple sequence", ErrWeakPassword)
	case PasswordContainsIIN:
		return fmt.Sprintf("%v: contains the IIN", ErrWeakPassword)
	}
	return ErrWeakPassword.Error()
}

func (e *PasswordError) Unwrap() error { return ErrWeakPassword }

// CheckPassword applies the key-store password rules: at least 8
// characters (Unicode, so Kazakh and Russian letters count as one each), at
// most 128 bytes, printable, not one character repeated or a straight run
// (12345678, abcdefgh), and not containing the applicant's IIN. Beyond that
// the choice is the applicant's: the PKCS#12 is encrypted with a slow key
// derivation (see Config.P12Iterations), and the page explains that a
// longer passphrase is better.
func CheckPassword(password, iin string) error {
	if !utf8.ValidString(password) || strings.ContainsFunc(password, unicode.IsControl) {
		return &PasswordError{PasswordInvalid}
	}
	if len(password) > MaxPasswordBytes {
		return &PasswordError{PasswordTooLong}
	}
	rs := []rune(password)
	if len(rs) < MinPasswordRunes {
		return &PasswordError{PasswordTooShort}
	}
	if iin != "" && strings.Contains(password, iin) {
		return &PasswordError{PasswordContainsIIN}
	}
	same, up, down := true, true, true
	for i := 1; i < len(rs); i++ {
		d := rs[i] - rs[i-1]
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	if same || up || down {
		return &PasswordError{PasswordRepetitive}
	}
	return nil
}
