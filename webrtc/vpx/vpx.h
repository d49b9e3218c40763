#ifndef VIDID_VPX_H
#define VIDID_VPX_H
#include <stddef.h>
#include <stdint.h>

typedef struct vidid_vp8 vidid_vp8;

// vidid_vp8_new returns a VP8 decoder or NULL (message in err, size errn).
vidid_vp8 *vidid_vp8_new(char *err, size_t errn);

// vidid_vp8_decode decodes one compressed frame (copied first into the
// decoder's own buffer, so data need only live for the call). Returns 1 when
// a picture resulted (its size in *w, *h; convert it with vidid_vp8_bgr
// before the next decode), 0 when the frame was consumed without a picture,
// -1 on error (message from vidid_vp8_error).
int vidid_vp8_decode(vidid_vp8 *d, const uint8_t *data, size_t n, int *w, int *h);

// vidid_vp8_error returns the message of the decoder's last error.
const char *vidid_vp8_error(const vidid_vp8 *d);

// vidid_vp8_bgr converts the last decoded picture to packed BGR24 (BT.601
// limited range) into dst, which must hold w*h*3 bytes. Returns 0, or -1 when
// there is no picture or dst is too small.
int vidid_vp8_bgr(vidid_vp8 *d, uint8_t *dst, size_t dstlen);

// vidid_vp8_simd turns the SIMD conversion on or off (where the CPU has
// it) for every decoder, and returns whether it was on. For tests.
int vidid_vp8_simd(int on);

// vidid_vp8_free frees the decoder and its buffers.
void vidid_vp8_free(vidid_vp8 *d);
#endif
