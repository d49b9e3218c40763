package ocv

// All cgo flags of this package live here. The C++ in dnn.cpp is compiled
// against the same system OpenCV 4.6 (pkg-config opencv4) that gocv v0.31 links.

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
*/
import "C"
