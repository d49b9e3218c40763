package web

import "errors"

// ErrInvalidPageData means CapturePageData failed validation (bad token
// characters, unknown language, a return URL that is not http(s), an ICE
// server URL that is not stun/turn). Nothing was written.
var ErrInvalidPageData = errors.New("invalid capture page data")

// ErrAssets means the embedded templates or dictionaries are broken: a
// build defect that the package tests catch.
var ErrAssets = errors.New("web assets are broken")
