package dlib

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"vidid/engine"
)

// encodeRegion scales the part r of f (r must lie inside f) to dw x dh
// pixels and returns it JPEG-encoded at the given quality. Scaling uses a
// separable triangle (bilinear) filter whose support widens when shrinking,
// so downscaled crops do not alias.
func encodeRegion(f engine.Frame, r image.Rectangle, dw, dh, quality int) ([]byte, error) {
	img := resampleRGBA(f, r, dw, dh)
	var buf bytes.Buffer
	buf.Grow(dw * dh / 2)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// resampleRGBA returns region r of the BGR frame f scaled to dw x dh as RGBA.
func resampleRGBA(f engine.Frame, r image.Rectangle, dw, dh int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	sw, sh := r.Dx(), r.Dy()
	if sw == dw && sh == dh {
		for y := 0; y < dh; y++ {
			src := f.Pix[((r.Min.Y+y)*f.Width+r.Min.X)*3:]
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < dw; x++ {
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = src[x*3+2], src[x*3+1], src[x*3], 255
			}
		}
		return dst
	}
	xw := filterWeights(sw, dw)
	yw := filterWeights(sh, dh)
	// Horizontal pass: sh rows of dw pixels, 3 channels (B, G, R).
	tmp := make([]float32, sh*dw*3)
	for y := 0; y < sh; y++ {
		src := f.Pix[((r.Min.Y+y)*f.Width+r.Min.X)*3 : ((r.Min.Y+y)*f.Width+r.Max.X)*3]
		out := tmp[y*dw*3 : (y+1)*dw*3]
		for x, t := range xw {
			var b, g, rr float32
			for k, w := range t.w {
				i := (t.first + k) * 3
				b += w * float32(src[i])
				g += w * float32(src[i+1])
				rr += w * float32(src[i+2])
			}
			out[x*3], out[x*3+1], out[x*3+2] = b, g, rr
		}
	}
	// Vertical pass into RGBA.
	for y, t := range yw {
		row := dst.Pix[y*dst.Stride:]
		for x := 0; x < dw; x++ {
			var b, g, rr float32
			for k, w := range t.w {
				i := ((t.first+k)*dw + x) * 3
				b += w * tmp[i]
				g += w * tmp[i+1]
				rr += w * tmp[i+2]
			}
			row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = clampByte(rr), clampByte(g), clampByte(b), 255
		}
	}
	return dst
}

// taps are the normalised filter weights of one output sample over the
// source samples first, first+1, ….
type taps struct {
	first int
	w     []float32
}

// filterWeights returns, for each of dn output samples, the triangle-filter
// weights over sn source samples (edges replicate by clamping).
func filterWeights(sn, dn int) []taps {
	scale := float64(sn) / float64(dn)
	support := math.Max(1, scale)
	out := make([]taps, dn)
	for i := range out {
		center := (float64(i)+0.5)*scale - 0.5
		lo := int(math.Ceil(center - support))
		hi := int(math.Floor(center + support))
		if lo < 0 {
			lo = 0
		}
		if hi > sn-1 {
			hi = sn - 1
		}
		if hi < lo {
			// Only when support cannot reach a sample (not for sn >= 1).
			lo, hi = min(max(int(math.Round(center)), 0), sn-1), min(max(int(math.Round(center)), 0), sn-1)
		}
		w := make([]float32, hi-lo+1)
		var sum float64
		for k := range w {
			d := math.Abs(float64(lo+k)-center) / support
			v := math.Max(0, 1-d)
			w[k] = float32(v)
			sum += v
		}
		if sum == 0 {
			for k := range w {
				w[k] = 1 / float32(len(w))
			}
		} else {
			for k := range w {
				w[k] = float32(float64(w[k]) / sum)
			}
		}
		out[i] = taps{first: lo, w: w}
	}
	return out
}

func clampByte(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
