package i18n

import "errors"

// ErrDictionary means a dictionary is missing or is not a flat JSON object
// of strings: a build defect that the package tests catch.
var ErrDictionary = errors.New("i18n dictionary is broken")

// ErrUnknownDomain means Dicts was asked for a domain the package has no
// dictionaries of.
var ErrUnknownDomain = errors.New("unknown i18n domain")
