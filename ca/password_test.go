package ca_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"vidid/ca"
)

func TestCheckPassword(t *testing.T) {
	const iin = "900515400123"
	cases := []struct {
		password string
		want     ca.PasswordProblem // "" = accepted
	}{
		{"correct horse", ""},
		{"Тауқұс25", ""}, // 8 Kazakh/Cyrillic characters
		{"abcdefgh1", ""},
		{"aaaaaaab", ""},
		{"1234567", ca.PasswordTooShort},
		{"Тауқұс2", ca.PasswordTooShort},
		{"abcdefgh", ca.PasswordRepetitive},
		{"87654321", ca.PasswordRepetitive},
		{"ЖЖЖЖЖЖЖЖЖЖ", ca.PasswordRepetitive},
		{"x" + iin, ca.PasswordContainsIIN},
		{"line\nbreak ok", ca.PasswordInvalid},
		{"bad\xffutf8 ok", ca.PasswordInvalid},
		{strings.Repeat("ab", 64), ""},
		{strings.Repeat("ab", 64) + "c", ca.PasswordTooLong},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			err := ca.CheckPassword(tc.password, iin)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *ca.PasswordError
			if !errors.Is(err, ca.ErrWeakPassword) || !errors.As(err, &pe) || pe.Problem != tc.want {
				t.Fatalf("want %s, got %v", tc.want, err)
			}
		})
	}
}

// FuzzParseCSR: the request parser takes untrusted bytes; it must never
// panic and must classify every refusal.
func FuzzParseCSR(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte(""))
	f.Add([]byte("-----BEGIN NEW CERTIFICATE REQUEST-----\n-----END NEW CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		csr, err := ca.ParseCSR(b)
		if err == nil {
			if csr.CheckSignature() != nil {
				t.Fatal("accepted a request whose signature does not verify")
			}
			return
		}
		if !errors.Is(err, ca.ErrBadCSR) && !errors.Is(err, ca.ErrUnsupportedKey) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
