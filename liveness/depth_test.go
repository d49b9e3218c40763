package liveness

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sweep is a head (or a picture) turning from frontal to +maxYaw, back and
// to -maxYaw, at distance cm: 90 frames at 30 fps, landmark noise 0.5 px,
// the pose read with 1° of noise.
func sweep(p [68][3]float64, maxYaw, distance float64, rng *rand.Rand) []Observation {
	out := make([]Observation, 90)
	for i := range out {
		yaw := maxYaw * math.Sin(2*math.Pi*float64(i)/90)
		out[i] = Observation{Arrival: at(i, 30), Width: 640, Height: 480, Faces: 1,
			Landmarks: project(p, yaw, distance, 0.5, rng), HasPose: true}
		out[i].Pose.Yaw = yaw + rng.NormFloat64()
	}
	return out
}

func TestDepth(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	turnedOnly := sweep(face3D(), 25, 60, rng)[10:35] // yaw 13-25°, never frontal
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"head turns 25° both ways", sweep(face3D(), 25, 60, rng), live},
		{"head turns 15°, close to the camera", sweep(face3D(), 15, 35, rng), live},
		{"photo turned 25° both ways", sweep(flat3D(), 25, 60, rng), attack},
		{"photo turned 35°, close to the camera", sweep(flat3D(), 35, 35, rng), attack},
		{"head hardly turns", sweep(face3D(), 8, 60, rng), unsure},
		{"no frontal frame", turnedOnly, unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := feed(NewDepth(DepthConfig{}), tc.obs)
			t.Logf("%v", r.Detail)
			tc.want.check(t, r, ReasonLivenessFailed)
		})
	}
}

// approach is a frontal head (or picture) coming from far to near cm, 60
// frames; zoom instead scales the far view digitally.
func approach(p [68][3]float64, far, near float64, zoom bool, rng *rand.Rand) []Observation {
	out := make([]Observation, 60)
	for i := range out {
		d := far + (near-far)*float64(i)/59
		var lm = project(p, 0, d, 0.5, rng)
		if zoom {
			lm = project(p, 0, far, 0, rng)
			for k := range lm {
				s := float32(far / d)
				lm[k].X = 320 + (lm[k].X-320)*s + float32(0.5*rng.NormFloat64())
				lm[k].Y = 240 + (lm[k].Y-240)*s + float32(0.5*rng.NormFloat64())
			}
		}
		out[i] = Observation{Arrival: at(i, 30), Width: 640, Height: 480, Faces: 1, Landmarks: lm, HasPose: true}
		out[i].Pose.Yaw = rng.NormFloat64()
	}
	return out
}

func TestApproach(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	tests := []struct {
		name string
		obs  []Observation
		want want
	}{
		{"head from 70 to 35 cm", approach(face3D(), 70, 35, false, rng), live},
		{"head from 80 to 55 cm", approach(face3D(), 80, 55, false, rng), want{true, 0.5, 1}},
		{"photo from 70 to 35 cm", approach(flat3D(), 70, 35, false, rng), attack},
		{"digital zoom of a head", approach(face3D(), 70, 35, true, rng), attack},
		{"head hardly moves", approach(face3D(), 70, 60, false, rng), unsure},
		{"too few frames", approach(face3D(), 70, 35, false, rng)[:6], unsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := feed(NewApproach(ApproachConfig{}), tc.obs)
			t.Logf("%v", r.Detail)
			tc.want.check(t, r, ReasonLivenessFailed)
		})
	}
}
