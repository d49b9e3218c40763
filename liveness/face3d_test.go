package liveness

import (
	"math"
	"math/rand/v2"

	"vidid/engine"
)

// face3D is a rough 68-point iBUG head in centimetres: x to the image's
// right, y down, z towards the camera, the eyes 6.4 cm apart, the nose tip
// 3.5 cm in front of them and the jaw contour 3-9 cm behind.
func face3D() [68][3]float64 {
	var p [68][3]float64
	for k := 0; k <= 16; k++ { // jaw, ear to ear through the chin
		a := math.Pi * float64(k) / 16
		p[k] = [3]float64{-7 * math.Cos(a), -2 + 10*math.Sin(a), -3 - 6*math.Abs(math.Cos(a))}
	}
	for k := 0; k < 5; k++ { // brows
		x := 1 + 4.5*float64(4-k)/4
		p[17+k] = [3]float64{-x, -4.5 - 0.5*math.Sin(math.Pi*float64(k)/4), -1 - 0.2*x}
		p[26-k] = [3]float64{x, p[17+k][1], p[17+k][2]}
	}
	for k, z := range []float64{-1.5, -0.6, 0.2, 1} { // nose bridge to tip
		p[27+k] = [3]float64{0, -3 + 4*float64(k)/3, z}
	}
	for k, z := range []float64{-0.8, -0.3, 0, -0.3, -0.8} { // nose base
		p[31+k] = [3]float64{-1.5 + 0.75*float64(k), 2, z}
	}
	eye := func(first int, cx float64) {
		for k := 0; k < 6; k++ {
			a := math.Pi * float64(k) / 3
			p[first+k] = [3]float64{cx - 1.4*math.Cos(a), -3 - 0.5*math.Sin(a), -2.5}
		}
	}
	eye(36, -3.2)
	eye(42, 3.2)
	for k := 0; k < 12; k++ { // outer lip
		a := math.Pi * float64(k) / 6
		x := -2.5 * math.Cos(a)
		p[48+k] = [3]float64{x, 4.5 - 1*math.Sin(a), -1 - 0.2*math.Abs(x)}
	}
	for k := 0; k < 8; k++ { // inner lip
		a := math.Pi * float64(k) / 4
		x := -1.7 * math.Cos(a)
		p[60+k] = [3]float64{x, 4.5 - 0.4*math.Sin(a), -1 - 0.2*math.Abs(x)}
	}
	return p
}

// flat3D is face3D pressed flat: a photo of it.
func flat3D() [68][3]float64 {
	p := face3D()
	for i := range p {
		p[i][2] = 0
	}
	return p
}

// project turns the head by yaw degrees (nose towards the image's right
// for yaw > 0) at distance cm from a 640x480 camera with a 600 px focal
// length, and adds landmark noise of sd px.
func project(p [68][3]float64, yaw, distance, sd float64, rng *rand.Rand) []engine.Point {
	s, c := math.Sincos(yaw * math.Pi / 180)
	out := make([]engine.Point, 68)
	for i, q := range p {
		x := q[0]*c + q[2]*s
		z := -q[0]*s + q[2]*c
		d := distance - z
		out[i] = engine.Point{X: float32(320 + 600*x/d + sd*rng.NormFloat64()), Y: float32(240 + 600*q[1]/d + sd*rng.NormFloat64())}
	}
	return out
}
