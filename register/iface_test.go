package register_test

import (
	"vidid/register"
	"vidid/verify"
)

// The register must keep satisfying what its consumers declare.
var _ verify.Register = (*register.PG)(nil)
