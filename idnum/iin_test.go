package idnum

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Known-valid IINs, check digits computed by hand:
//
//	900101300017  1990-01-01, male (3), serial 0001.
//	              9·1+0·2+0·3+1·4+0·5+1·6+3·7+0·8+0·9+0·10+1·11 = 51; 51 mod 11 = 7.
//	010228612341  2001-02-28, female (6), serial 1234.
//	              0+1·2+0+2·4+2·5+8·6+6·7+1·8+2·9+3·10+4·11 = 210; 210 mod 11 = 1.
//	000229600014  2000-02-29 (leap year), female (6), serial 0001.
//	              0+0+0+2·4+2·5+9·6+6·7+0+0+0+1·11 = 125; 125 mod 11 = 4.
//	850615300000  1985-06-15, male (3), serial 0000, second weighting:
//	              8·1+5·2+0+6·4+1·5+5·6+3·7 = 98; 98 mod 11 = 10, so
//	              8·3+5·4+0·5+6·6+1·7+5·8+3·9+0·10+0·11+0·1+0·2 = 154; 154 mod 11 = 0.
//	850615300061  same person, serial 0006: 98+6·11 = 164 ≡ 10; 154+6·2 = 166 ≡ 1.
//
// No check digit exists for 8506153 0005: 98+5·11 = 153 ≡ 10 and
// 154+5·2 = 164 ≡ 10, so every 85061530005K is invalid.
func TestValidateIIN(t *testing.T) {
	for _, tc := range []struct {
		name   string
		iin    string
		reason string // "" = valid
		born   string
		male   bool
	}{
		{"male 1990", "900101300017", "", "1990-01-01", true},
		{"female 2001", "010228612341", "", "2001-02-28", false},
		{"29 February 2000", "000229600014", "", "2000-02-29", false},
		{"second weighting", "850615300000", "", "1985-06-15", true},
		{"second weighting, serial 6", "850615300061", "", "1985-06-15", true},

		{"empty", "", "want 12 digits, got 0", "", false},
		{"11 digits", "90010130001", "want 12 digits, got 11", "", false},
		{"13 digits", "9001013000170", "want 12 digits, got 13", "", false},
		{"letter", "90010130001a", "character 12 is not a digit", "", false},
		{"space", "900101 00017", "character 7 is not a digit", "", false},
		{"fullwidth digits are not ASCII", "９００１０１３０００１", "want 12 digits", "", false},
		{"century 0", "900101000017", "century/sex digit (7th) is 0", "", false},
		{"century 7", "900101700017", "century/sex digit (7th) is 7", "", false},
		{"month 13", "901301300017", "not a date of birth (1990-13-01)", "", false},
		{"day 0", "900100300017", "not a date of birth", "", false},
		{"31 April", "900431300017", "not a date of birth (1990-04-31)", "", false},
		{"29 February 2001", "010229600014", "not a date of birth (2001-02-29)", "", false},
		{"29 February 1900 (not a leap year)", "000229400014", "not a date of birth (1900-02-29)", "", false},
		{"wrong check digit", "900101300018", "check digit mismatch", "", false},
		{"transposed serial digits", "010228612431", "check digit mismatch", "", false},
		{"no check digit possible", "850615300050", "admit none", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateIIN(tc.iin)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("ValidateIIN(%q) = %v, want valid", tc.iin, err)
				}
				n := IIN(tc.iin)
				if got := n.BirthDate().Format(time.DateOnly); got != tc.born {
					t.Errorf("BirthDate = %s, want %s", got, tc.born)
				}
				if n.Male() != tc.male {
					t.Errorf("Male = %v, want %v", n.Male(), tc.male)
				}
				return
			}
			if !errors.Is(err, ErrInvalidIIN) {
				t.Fatalf("ValidateIIN(%q) = %v, want ErrInvalidIIN", tc.iin, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not give the reason %q", err, tc.reason)
			}
			if len(tc.iin) == 12 && strings.Contains(err.Error(), tc.iin) {
				t.Errorf("error echoes the number: %q", err)
			}
			if _, perr := ParseIIN(tc.iin); perr == nil {
				t.Error("ParseIIN accepted what ValidateIIN refuses")
			}
			if !IIN(tc.iin).BirthDate().IsZero() || IIN(tc.iin).Male() {
				t.Error("an invalid IIN reports a birth date or sex")
			}
		})
	}
}

func TestGenerateIIN(t *testing.T) {
	for _, tc := range []struct {
		name   string
		born   time.Time
		male   bool
		serial int
		want   string
	}{
		{"hand example 1", date(1990, 1, 1), true, 1, "900101300017"},
		{"hand example 2", date(2001, 2, 28), false, 1234, "010228612341"},
		{"second weighting", date(1985, 6, 15), true, 0, "850615300000"},
		{"serial 5 has no check digit: skipped to 6", date(1985, 6, 15), true, 5, "850615300061"},
		{"1800s female", date(1899, 12, 31), false, 0, ""},
		{"2000s male", date(2099, 1, 1), true, 9999, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := GenerateIIN(tc.born, tc.male, tc.serial)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("GenerateIIN = %s, want %s", got, tc.want)
			}
			if err := ValidateIIN(got); err != nil {
				t.Fatalf("generated %s is invalid: %v", got, err)
			}
			n := IIN(got)
			if !n.BirthDate().Equal(tc.born) || n.Male() != tc.male {
				t.Errorf("%s decodes to %s male=%v, want %s male=%v", got, n.BirthDate(), n.Male(), tc.born, tc.male)
			}
		})
	}

	// Every serial of a day either yields its own number or is skipped to the
	// next usable one; all results are valid. A serial is unusable only when
	// both weightings give 10, about 1 in 121.
	skipped := 0
	for s := 0; s <= 9999; s++ {
		got, err := GenerateIIN(date(1985, 6, 15), true, s)
		if err != nil {
			if s < 9990 {
				t.Fatalf("serial %d: %v", s, err)
			}
			continue
		}
		if ValidateIIN(got) != nil {
			t.Fatalf("serial %d gave invalid %s", s, got)
		}
		if serialOf(got) != s {
			skipped++
		}
	}
	if skipped < 40 || skipped > 160 {
		t.Errorf("%d of 10000 serials skipped; the checksum rule makes about 1/121 unusable", skipped)
	}

	for _, tc := range []struct {
		name   string
		born   time.Time
		serial int
	}{
		{"before 1800", date(1799, 12, 31), 0},
		{"after 2099", date(2100, 1, 1), 0},
		{"negative serial", date(1990, 1, 1), -1},
		{"serial over 9999", date(1990, 1, 1), 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := GenerateIIN(tc.born, true, tc.serial); !errors.Is(err, ErrInvalidIIN) {
				t.Errorf("GenerateIIN = %q, %v; want ErrInvalidIIN", got, err)
			}
		})
	}
}

func TestMaskIIN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"900101300017", "90********17"},
		{"", "************"},
		{"90010130001", "************"},
		{"9001013000170", "************"},
	} {
		if got := MaskIIN(tc.in); got != tc.want {
			t.Errorf("MaskIIN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "iin", IIN("900101300017"))
	if strings.Contains(b.String(), "900101300017") || !strings.Contains(b.String(), "90********17") {
		t.Errorf("slog output %q: want the IIN masked", b.String())
	}
}

func FuzzValidateIIN(f *testing.F) {
	for _, s := range []string{"900101300017", "850615300000", "850615300050", "", "00000000000", "９００１０１３０００１", "000229400014"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIIN(s)
		m := MaskIIN(s)
		if len(m) != 12 {
			t.Fatalf("MaskIIN(%q) has length %d", s, len(m))
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidIIN) {
				t.Fatalf("error %v does not wrap ErrInvalidIIN", err)
			}
			return
		}
		// A valid number regenerates from its own parts.
		n := IIN(s)
		got, gerr := GenerateIIN(n.BirthDate(), n.Male(), serialOf(s))
		if gerr != nil || got != s {
			t.Fatalf("valid %q: GenerateIIN from its parts = %q, %v", s, got, gerr)
		}
		if m[2:10] != "********" {
			t.Fatalf("MaskIIN(%q) = %q shows middle digits", s, m)
		}
	})
}

func BenchmarkValidateIIN(b *testing.B) {
	for b.Loop() {
		if err := ValidateIIN("850615300061"); err != nil {
			b.Fatal(err)
		}
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// serialOf returns digits 8–11 of an IIN, its serial number.
func serialOf(iin string) int {
	n := 0
	for _, c := range iin[7:11] {
		n = n*10 + int(c-'0')
	}
	return n
}
