package capture

import (
	"time"

	"vidid/engine"
)

// Clip limits.
const (
	ClipFrames = 24
	ClipFPS    = 4
)

// clip keeps a half-size copy of f for the evidence clip, at most ClipFPS
// a second, dropping the oldest beyond ClipFrames.
func (a *attempt) clip(f engine.Frame) {
	now := a.r.now()
	if !a.lastClip.IsZero() && now.Sub(a.lastClip) < time.Second/ClipFPS {
		return
	}
	a.lastClip = now
	a.res.Clip = append(a.res.Clip, Half(f))
	if len(a.res.Clip) > ClipFrames {
		a.res.Clip = a.res.Clip[1:]
	}
}

// Half returns f at half width and height (each output pixel is one of a
// 2x2 block: cheap, and enough for a reviewer's clip).
func Half(f engine.Frame) engine.Frame {
	w, h := f.Width/2, f.Height/2
	out := engine.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3), Seq: f.Seq, Time: f.Time}
	for y := 0; y < h; y++ {
		src := f.Pix[(2*y)*f.Width*3:]
		dst := out.Pix[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			copy(dst[x*3:x*3+3], src[2*x*3:2*x*3+3])
		}
	}
	return out
}
