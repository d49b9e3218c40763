#ifndef VIDID_VPX_H
#define VIDID_VPX_H
#include <stddef.h>
#include <stdint.h>

typedef struct vidid_vp8 vidid_vp8;

// vidid_vp8_new returns a VP8 decoder or NULL (message in err, size errn).
vidid_vp8 *vidid_vp8_new(char *err, size_t errn);
// vidid_vp8_decode decodes one compressed frame. When a picture results it
// is converted to packed BGR into *bgr (grown with realloc as needed; *cap
// tracks its size) and *w, *h are set; returns 1. 0: no picture (the frame
// was consumed without output); -1: error, message in err.
int vidid_vp8_decode(vidid_vp8 *d, const uint8_t *data, size_t n, uint8_t **bgr, size_t *cap,
                     int *w, int *h, char *err, size_t errn);
void vidid_vp8_free(vidid_vp8 *d);
#endif
