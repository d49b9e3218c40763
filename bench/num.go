package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

var nan = math.NaN()

// Num is a figure that may be unmeasurable: NaN, written to JSON as null.
type Num float64

// MarshalJSON writes NaN and infinities as null, other values with at most
// 6 significant digits (the reports are diffed; noise digits would churn).
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*n = Num(nan)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Measured reports whether n holds a value.
func (n Num) Measured() bool { return !math.IsNaN(float64(n)) }

// MarshalJSON writes an interval with an unmeasurable end as null.
func (iv Interval) MarshalJSON() ([]byte, error) {
	if math.IsNaN(iv[0]) || math.IsNaN(iv[1]) {
		return []byte("null"), nil
	}
	return json.Marshal([2]Num{Num(iv[0]), Num(iv[1])})
}

// UnmarshalJSON reads null as [NaN, NaN].
func (iv *Interval) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*iv = Interval{nan, nan}
		return nil
	}
	var x [2]Num
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*iv = Interval{float64(x[0]), float64(x[1])}
	return nil
}

// Estimate is a figure with its 95% confidence interval.
type Estimate struct {
	Value Num      `json:"value"`
	CI95  Interval `json:"ci95"`
}

// sortUnique sorts *xs and drops repeats.
func sortUnique(xs *[]float64) {
	slices.Sort(*xs)
	*xs = slices.Compact(*xs)
}
