// Package idnum holds Kazakhstan individual identification numbers (IIN):
// validation with the check digit, the date of birth and sex they encode,
// masking for logs, and generation for test and demo data.
//
// It is a leaf: it imports only the standard library, so that assertion
// and ca can check and mask IINs without depending on the population
// register (see deps_test.go). It is not named iin because iin is the
// name of the variables that hold one throughout the code base.
package idnum
