package idnum

import (
	"fmt"
	"log/slog"
	"time"
)

// IIN is a Kazakhstan individual identification number (ЖСН/ИИН): 12 digits
//
//	YYMMDD C SSSS K
//
// YYMMDD the date of birth; C the century and sex digit (1/2 = born in the
// 1800s, 3/4 = 1900s, 5/6 = 2000s; odd = male, even = female); SSSS a serial
// number; K the check digit (see ValidateIIN).
//
// Century digit 0: some numbers issued to foreigners carry 0 in position 7.
// Such a number does not say which century the date of birth is in, so its
// date cannot be checked against the register's date of birth, and the
// register this service matches against is the citizens' one. ValidateIIN
// therefore rejects 0 (and 7–9); accepting them later would be a one-line
// change in centuryOf plus a decision about BirthDate.
//
// An IIN logged through log/slog prints masked (LogValue); use MaskIIN for
// plain strings.
type IIN string

// ParseIIN validates s and returns it as an IIN.
func ParseIIN(s string) (IIN, error) {
	if err := ValidateIIN(s); err != nil {
		return "", err
	}
	return IIN(s), nil
}

// ValidateIIN reports whether s is a valid IIN: exactly 12 ASCII digits, a
// real calendar date YYMMDD in digits 1–6 (in the century digit 7 names),
// century digit 1–6, and a correct check digit 12. The check digit is the
// sum of the first 11 digits weighted 1,2,…,11, mod 11; if that is 10, the
// sum weighted 3,4,…,11,1,2, mod 11; if that is 10 too, no number with
// these 11 digits is valid. The error wraps ErrInvalidIIN and names the
// reason without echoing the number.
func ValidateIIN(s string) error {
	if len(s) != 12 {
		return fmt.Errorf("%w: want 12 digits, got %d characters", ErrInvalidIIN, len(s))
	}
	var d [12]int
	for i := 0; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: character %d is not a digit", ErrInvalidIIN, i+1)
		}
		d[i] = int(c - '0')
	}
	century, ok := centuryOf(d[6])
	if !ok {
		return fmt.Errorf("%w: century/sex digit (7th) is %d, want 1–6", ErrInvalidIIN, d[6])
	}
	y := century + d[0]*10 + d[1]
	m := d[2]*10 + d[3]
	day := d[4]*10 + d[5]
	if !validDate(y, m, day) {
		return fmt.Errorf("%w: digits 1–6 are not a date of birth (%04d-%02d-%02d)", ErrInvalidIIN, y, m, day)
	}
	k, ok := checkDigit([11]int(d[:11]))
	if !ok {
		return fmt.Errorf("%w: check digit: the first 11 digits admit none", ErrInvalidIIN)
	}
	if k != d[11] {
		return fmt.Errorf("%w: check digit mismatch", ErrInvalidIIN)
	}
	return nil
}

// BirthDate returns the date of birth the IIN encodes (midnight UTC), or
// the zero time for an invalid IIN.
func (n IIN) BirthDate() time.Time {
	if ValidateIIN(string(n)) != nil {
		return time.Time{}
	}
	return birthDate(string(n))
}

// Male reports whether the century/sex digit is odd. False for an invalid IIN.
func (n IIN) Male() bool {
	return ValidateIIN(string(n)) == nil && (n[6]-'0')%2 == 1
}

// String returns the full number.
func (n IIN) String() string { return string(n) }

// LogValue makes slog print the IIN masked.
func (n IIN) LogValue() slog.Value { return slog.StringValue(MaskIIN(string(n))) }

var _ slog.LogValuer = IIN("")

// MaskIIN returns s fit for logs: the first two digits (year of birth) and
// the last two kept, the rest starred ("90********34"). Anything that is not
// 12 characters is masked completely, so a mistyped number never leaks.
func MaskIIN(s string) string {
	if len(s) != 12 {
		return "************"
	}
	return s[:2] + "********" + s[10:]
}

// GenerateIIN returns a valid IIN for someone born on birth's calendar date
// (as birth's location sees it), of the given sex, with serial number
// serial (0–9999). Serials whose 11 digits admit no check digit are skipped:
// the next usable serial is taken, so neighbouring serials can yield the
// same number. Birth years must lie in 1800–2099.
func GenerateIIN(birth time.Time, male bool, serial int) (string, error) {
	y, m, d := birth.Date()
	if y < 1800 || y > 2099 {
		return "", fmt.Errorf("%w: birth year %d outside 1800–2099", ErrInvalidIIN, y)
	}
	if serial < 0 || serial > 9999 {
		return "", fmt.Errorf("%w: serial %d outside 0–9999", ErrInvalidIIN, serial)
	}
	c := 1 + 2*((y-1800)/100) // 1, 3, 5
	if !male {
		c++
	}
	for s := serial; s <= 9999; s++ {
		var digits [11]int
		prefix := fmt.Sprintf("%02d%02d%02d%d%04d", y%100, int(m), d, c, s)
		for i := range digits {
			digits[i] = int(prefix[i] - '0')
		}
		if k, ok := checkDigit(digits); ok {
			return prefix + string(rune('0'+k)), nil
		}
	}
	return "", fmt.Errorf("%w: no usable serial from %d to 9999", ErrInvalidIIN, serial)
}

// centuryOf maps the 7th digit to the first year of the century of birth.
func centuryOf(c int) (int, bool) {
	switch c {
	case 1, 2:
		return 1800, true
	case 3, 4:
		return 1900, true
	case 5, 6:
		return 2000, true
	}
	return 0, false
}

var (
	weights1 = [11]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	weights2 = [11]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}
)

// checkDigit computes the IIN check digit of the first 11 digits; ok is
// false when both weightings give 10 (no valid number has these digits).
func checkDigit(d [11]int) (k int, ok bool) {
	sum := 0
	for i, w := range weights1 {
		sum += d[i] * w
	}
	if k = sum % 11; k != 10 {
		return k, true
	}
	sum = 0
	for i, w := range weights2 {
		sum += d[i] * w
	}
	if k = sum % 11; k != 10 {
		return k, true
	}
	return 0, false
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// birthDate decodes digits 1–7 of an IIN already validated.
func birthDate(s string) time.Time {
	century, _ := centuryOf(int(s[6] - '0'))
	y := century + int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[2]-'0')*10 + int(s[3]-'0')
	d := int(s[4]-'0')*10 + int(s[5]-'0')
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}
