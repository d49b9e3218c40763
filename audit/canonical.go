package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// maxExponent bounds the decimal exponent of numbers in audit data, so a
// hostile literal like 1e999999999 cannot make canonicalisation expensive.
const maxExponent = 400

// canonicalJSON re-encodes one JSON value in vidid's canonical form: object
// keys sorted by byte order, no white space, strings as encoding/json writes
// them, numbers in their shortest exact decimal form ("1e3" and "1000.0"
// both become "1000"). Postgres jsonb keeps numbers exactly and only
// reorders keys and spacing, so canonical(x) == canonical(jsonb(x)).
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse json: trailing data after value")
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		s, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(s)
	case json.Number:
		s, err := canonicalNumber(string(x))
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			ks, err := json.Marshal(k)
			if err != nil {
				return err
			}
			b.Write(ks)
			b.WriteByte(':')
			if err := writeCanonical(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("canonical json: unexpected %T", v)
	}
	return nil
}

// canonicalNumber writes a JSON number literal as an exact decimal without
// exponent and without redundant zeros: "-0" → "0", "1.50" → "1.5",
// "2.5e-3" → "0.0025".
func canonicalNumber(lit string) (string, error) {
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return "", fmt.Errorf("canonical json: number %.40q out of range", lit)
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		return "", fmt.Errorf("canonical json: bad number %.40q", lit)
	}
	if r.IsInt() {
		return r.Num().String(), nil
	}
	// A finite decimal has a denominator 2^a·5^b; it needs max(a,b) digits.
	d := new(big.Int).Set(r.Denom())
	var twos, fives int
	two, five, zero, m := big.NewInt(2), big.NewInt(5), big.NewInt(0), new(big.Int)
	for m.Mod(d, two).Cmp(zero) == 0 {
		d.Quo(d, two)
		twos++
	}
	for m.Mod(d, five).Cmp(zero) == 0 {
		d.Quo(d, five)
		fives++
	}
	return r.FloatString(max(twos, fives)), nil
}
