#include "vpx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

struct vidid_vp8 {
  vpx_codec_ctx_t ctx;
};

static void seterr(char *err, size_t errn, const char *what, vpx_codec_ctx_t *ctx) {
  const char *detail = ctx ? vpx_codec_error_detail(ctx) : NULL;
  snprintf(err, errn, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

vidid_vp8 *vidid_vp8_new(char *err, size_t errn) {
  vidid_vp8 *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errn, "out of memory");
    return NULL;
  }
  vpx_codec_dec_cfg_t cfg = {.threads = 1};
  if (vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
    seterr(err, errn, vpx_codec_error(&d->ctx), &d->ctx);
    free(d);
    return NULL;
  }
  return d;
}

static inline uint8_t clamp8(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

// I420 → BGR, BT.601 limited range, integer arithmetic.
static void i420_to_bgr(const vpx_image_t *img, uint8_t *out) {
  int w = img->d_w, h = img->d_h;
  for (int y = 0; y < h; y++) {
    const uint8_t *yr = img->planes[0] + y * img->stride[0];
    const uint8_t *ur = img->planes[1] + (y >> 1) * img->stride[1];
    const uint8_t *vr = img->planes[2] + (y >> 1) * img->stride[2];
    uint8_t *o = out + (size_t)y * w * 3;
    for (int x = 0; x < w; x++) {
      int c = 298 * (yr[x] - 16);
      int d = ur[x >> 1] - 128;
      int e = vr[x >> 1] - 128;
      o[0] = clamp8((c + 516 * d + 128) >> 8);
      o[1] = clamp8((c - 100 * d - 208 * e + 128) >> 8);
      o[2] = clamp8((c + 409 * e + 128) >> 8);
      o += 3;
    }
  }
}

int vidid_vp8_decode(vidid_vp8 *d, const uint8_t *data, size_t n, uint8_t **bgr, size_t *cap,
                     int *w, int *h, char *err, size_t errn) {
  if (vpx_codec_decode(&d->ctx, data, (unsigned int)n, NULL, 0) != VPX_CODEC_OK) {
    seterr(err, errn, vpx_codec_error(&d->ctx), &d->ctx);
    return -1;
  }
  vpx_codec_iter_t it = NULL;
  vpx_image_t *img = vpx_codec_get_frame(&d->ctx, &it);
  if (!img) return 0;
  if (img->fmt != VPX_IMG_FMT_I420) {
    snprintf(err, errn, "unsupported picture format %d", (int)img->fmt);
    return -1;
  }
  size_t need = (size_t)img->d_w * img->d_h * 3;
  if (need == 0 || img->d_w > 8192 || img->d_h > 8192) {
    snprintf(err, errn, "bad picture size %ux%u", img->d_w, img->d_h);
    return -1;
  }
  if (*cap < need) {
    uint8_t *p = realloc(*bgr, need);
    if (!p) {
      snprintf(err, errn, "out of memory");
      return -1;
    }
    *bgr = p;
    *cap = need;
  }
  i420_to_bgr(img, *bgr);
  *w = img->d_w;
  *h = img->d_h;
  // Drain any further pictures (VP8 yields at most one per frame).
  while (vpx_codec_get_frame(&d->ctx, &it)) {
  }
  return 1;
}

void vidid_vp8_free(vidid_vp8 *d) {
  if (!d) return;
  vpx_codec_destroy(&d->ctx);
  free(d);
}
