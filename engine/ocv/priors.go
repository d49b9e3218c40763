package ocv

import "math"

// Prior boxes and head decoding of the Ultra-Light-Fast-Generic-Face-
// Detector (RFB layout) behind fr_detect.onnx, as in the detector's
// reference code (vision/utils/box_utils.py: generate_priors and
// convert_locations_to_boxes). At 320x240 this reproduces the graph's own
// decoder exactly (TestDetectorMatchesModelDecoder).
var (
	detectStrides  = [4]int{8, 16, 32, 64}
	detectMinBoxes = [4][]float64{{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}}
)

const (
	centerVariance = 0.1
	sizeVariance   = 0.2
)

// prior is one anchor: centre and size as fractions of the input, clamped
// to [0,1] like the reference code.
type prior struct{ cx, cy, w, h float64 }

// featureSize is the side of a head's feature map for an input side of n
// pixels at the given stride (the network's stride-2 convolutions pad, so
// it rounds up).
func featureSize(n, stride int) int { return (n + stride - 1) / stride }

// priors lists the anchors for a w x h input in the heads' order: scale,
// then row, then column, then anchor size.
func priors(w, h int) []prior {
	var out []prior
	for s, stride := range detectStrides {
		fw, fh := featureSize(w, stride), featureSize(h, stride)
		// The reference code's shrinkage is size/feature-map size, so
		// centres are spread over the feature map, not by the stride:
		// at 240 high the stride-32 map has 8 rows for 7.5 strides.
		for j := 0; j < fh; j++ {
			for i := 0; i < fw; i++ {
				cx, cy := (float64(i)+0.5)/float64(fw), (float64(j)+0.5)/float64(fh)
				for _, m := range detectMinBoxes[s] {
					out = append(out, prior{clamp01(cx), clamp01(cy), clamp01(m / float64(w)), clamp01(m / float64(h))})
				}
			}
		}
	}
	return out
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// head is one scale's raw output: cls is NCHW with 2 channels (background,
// face) per anchor, reg NCHW with 4 (dx, dy, dw, dh) per anchor.
type head struct {
	cls, reg []float32
	w, h     int
	anchors  int
}

// decodeHeads returns the anchors whose face probability (the two-class
// softmax of the head) reaches minScore, with their boxes decoded as corner
// fractions of the input. pri must come from priors for the same input
// size.
func decodeHeads(heads []head, pri []prior, minScore float32) []scored {
	var out []scored
	// The softmax p = 1/(1+exp(bg-face)) reaches minScore exactly when
	// face-bg >= logit(minScore); compare logits to skip exp for the
	// thousands of background anchors.
	minLogit := float32(math.Log(float64(minScore) / (1 - float64(minScore))))
	k := 0
	for _, hd := range heads {
		plane := hd.w * hd.h
		for y := 0; y < hd.h; y++ {
			for x := 0; x < hd.w; x++ {
				for a := 0; a < hd.anchors; a++ {
					p := pri[k]
					k++
					at := y*hd.w + x
					bg, face := hd.cls[(2*a)*plane+at], hd.cls[(2*a+1)*plane+at]
					if !(face-bg >= minLogit) { // also drops NaN
						continue
					}
					score := float32(1 / (1 + math.Exp(float64(bg-face))))
					if !(score >= minScore) {
						continue
					}
					dx, dy := float64(hd.reg[(4*a)*plane+at]), float64(hd.reg[(4*a+1)*plane+at])
					dw, dh := float64(hd.reg[(4*a+2)*plane+at]), float64(hd.reg[(4*a+3)*plane+at])
					cx := dx*centerVariance*p.w + p.cx
					cy := dy*centerVariance*p.h + p.cy
					bw := math.Exp(dw*sizeVariance) * p.w
					bh := math.Exp(dh*sizeVariance) * p.h
					b := Box{cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2}
					if math.IsNaN(b.X1+b.Y1+b.X2+b.Y2) || math.IsInf(b.X1+b.Y1+b.X2+b.Y2, 0) {
						continue
					}
					out = append(out, scored{Box: b, Score: score})
				}
			}
		}
	}
	return out
}
