package idnum

import "errors"

// ErrInvalidIIN: not a valid 12-digit individual identification number
// (length, non-digit, date of birth, century digit or check digit). It is
// wrapped with the reason; test with errors.Is.
var ErrInvalidIIN = errors.New("invalid IIN")
