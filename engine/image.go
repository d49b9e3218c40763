package engine

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
)

// Limits on images accepted from outside (uploads, register photos). A
// phone's full-resolution selfie is 12–16 megapixels; anything larger is
// refused from its header, before a pixel is decoded (a 166 KB PNG can
// claim 40 megapixels and cost seconds and hundreds of MB to decode).
const (
	MaxImageBytes  = 15 << 20 // 15 MiB
	MinImageSide   = 48
	MaxImageSide   = 6000
	MaxImagePixels = 16_000_000
)

// decodeSlots bounds how many images decode at once in this process, so
// a burst of large uploads costs at most that many decoded buffers
// (about 112 MB each at the pixel cap) instead of one per request.
var decodeSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// DecodeImage decodes a JPEG or PNG image into a BGR frame. It reads the
// header first and refuses images that are too small, too large or not
// JPEG/PNG before decoding any pixels, so a hostile upload cannot exhaust
// memory. Every failure wraps ErrBadImage.
func DecodeImage(b []byte) (Frame, error) {
	if len(b) == 0 {
		return Frame{}, fmt.Errorf("%w: empty upload", ErrBadImage)
	}
	if len(b) > MaxImageBytes {
		return Frame{}, fmt.Errorf("%w: %d bytes, limit %d", ErrBadImage, len(b), MaxImageBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if errors.Is(err, image.ErrFormat) {
		return Frame{}, fmt.Errorf("%w: not a JPEG or PNG image", ErrBadImage)
	}
	if err != nil {
		return Frame{}, fmt.Errorf("%w: corrupt or truncated image header (%v)", ErrBadImage, err)
	}
	if format != "jpeg" && format != "png" {
		return Frame{}, fmt.Errorf("%w: format %q, want jpeg or png", ErrBadImage, format)
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide {
		return Frame{}, fmt.Errorf("%w: %dx%d is smaller than %d px", ErrBadImage, cfg.Width, cfg.Height, MinImageSide)
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide || cfg.Width*cfg.Height > MaxImagePixels {
		return Frame{}, fmt.Errorf("%w: %dx%d is larger than allowed", ErrBadImage, cfg.Width, cfg.Height)
	}
	decodeSlots <- struct{}{}
	defer func() { <-decodeSlots }()
	var img image.Image
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(b))
	case "png":
		img, err = png.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return Frame{}, fmt.Errorf("%w: decode %s: %v", ErrBadImage, format, err)
	}
	return FrameFromImage(img), nil
}

// LoadImage reads and decodes a JPEG or PNG file.
func LoadImage(path string) (Frame, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Frame{}, fmt.Errorf("load image: %w", err)
	}
	if st.Size() > MaxImageBytes {
		return Frame{}, fmt.Errorf("load image %s: %w: %d bytes", path, ErrBadImage, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Frame{}, fmt.Errorf("load image: %w", err)
	}
	f, err := DecodeImage(b)
	if err != nil {
		return Frame{}, fmt.Errorf("load image %s: %w", path, err)
	}
	return f, nil
}

// FrameFromImage converts any image to a BGR frame.
func FrameFromImage(img image.Image) Frame {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	var rgba *image.RGBA
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := (y*w + x) * 3
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = bb, g, r
			}
		}
		return out
	case *image.RGBA:
		rgba = m
	default:
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	}
	rb := rgba.Bounds()
	for y := 0; y < h; y++ {
		off := rgba.PixOffset(rb.Min.X, rb.Min.Y+y)
		row := rgba.Pix[off : off+w*4]
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = row[x*4+2], row[x*4+1], row[x*4]
		}
	}
	return out
}

func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) { return color.YCbCrToRGB(y, cb, cr) }

// ToImage returns the frame as an *image.RGBA (for encoding and tests).
func (f Frame) ToImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for i, j := 0, 0; i < len(f.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = f.Pix[i+2], f.Pix[i+1], f.Pix[i], 255
	}
	return img
}

// EncodeJPEG encodes the frame as JPEG at the given quality.
func (f Frame) EncodeJPEG(quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, f.ToImage(), &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// Crop returns a copy of the part of f inside r (clamped to the frame).
func (f Frame) Crop(r image.Rectangle) Frame {
	r = r.Intersect(f.Bounds())
	out := Frame{Width: r.Dx(), Height: r.Dy(), Seq: f.Seq, Time: f.Time}
	out.Pix = make([]byte, out.Width*out.Height*3)
	for y := 0; y < out.Height; y++ {
		src := ((r.Min.Y+y)*f.Width + r.Min.X) * 3
		copy(out.Pix[y*out.Width*3:(y+1)*out.Width*3], f.Pix[src:src+out.Width*3])
	}
	return out
}
