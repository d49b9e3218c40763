#include "vpx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>
#endif

// Largest picture accepted (VP8 allows 16383x16383; a camera never sends
// more than this, and the bound keeps w*h*3 far from overflow).
#define MAX_SIDE 4096
// Largest compressed frame accepted.
#define MAX_FRAME (8u << 20)

struct vidid_vp8 {
  vpx_codec_ctx_t ctx;
  char err[256];     // message of the last error
  vpx_image_t *img;  // last picture, owned by ctx, valid until the next decode
  uint8_t *in;       // copy of the compressed frame
  size_t incap;
};

static void seterr(char *err, size_t errn, const char *what, vpx_codec_ctx_t *ctx) {
  const char *detail = ctx ? vpx_codec_error_detail(ctx) : NULL;
  snprintf(err, errn, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

// Conversion tables (BT.601 limited range, 8-bit fixed point):
//   B = 1.164(Y-16) + 2.018(U-128)
//   G = 1.164(Y-16) - 0.391(U-128) - 0.813(V-128)
//   R = 1.164(Y-16) + 1.596(V-128)
// clip maps a shifted sum (range about -280..540) to 0..255.
#define CLIP_OFF 384
static int tabY[256], tabBU[256], tabGU[256], tabGV[256], tabRV[256];
static uint8_t clip[1024];
static pthread_once_t tabs_once = PTHREAD_ONCE_INIT;
static int use_ssse3;

static void init_tabs(void) {
  for (int i = 0; i < 256; i++) {
    tabY[i] = 298 * (i - 16) + 128;
    tabBU[i] = 516 * (i - 128);
    tabGU[i] = -100 * (i - 128);
    tabGV[i] = -208 * (i - 128);
    tabRV[i] = 409 * (i - 128);
  }
  for (int i = 0; i < 1024; i++) {
    int v = i - CLIP_OFF;
    clip[i] = v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  __atomic_store_n(&use_ssse3, __builtin_cpu_supports("ssse3"), __ATOMIC_RELAXED);
#endif
}

vidid_vp8 *vidid_vp8_new(char *err, size_t errn) {
  pthread_once(&tabs_once, init_tabs);
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

const char *vidid_vp8_error(const vidid_vp8 *d) { return d->err; }

int vidid_vp8_decode(vidid_vp8 *d, const uint8_t *data, size_t n, int *w, int *h) {
  char *err = d->err;
  size_t errn = sizeof d->err;
  d->img = NULL;
  err[0] = 0;
  if (n == 0 || n > MAX_FRAME) {
    snprintf(err, errn, "frame of %zu bytes", n);
    return -1;
  }
  if (d->incap < n) {
    uint8_t *p = realloc(d->in, n);
    if (!p) {
      snprintf(err, errn, "out of memory");
      return -1;
    }
    d->in = p;
    d->incap = n;
  }
  memcpy(d->in, data, n);
  // A keyframe states the picture size: refuse absurd sizes before libvpx
  // allocates frame buffers for them.
  vpx_codec_stream_info_t si = {.sz = sizeof si};
  if (vpx_codec_peek_stream_info(vpx_codec_vp8_dx(), d->in, (unsigned int)n, &si) == VPX_CODEC_OK &&
      si.is_kf && (si.w > MAX_SIDE || si.h > MAX_SIDE)) {
    snprintf(err, errn, "keyframe of %ux%u exceeds %dx%d", si.w, si.h, MAX_SIDE, MAX_SIDE);
    return -1;
  }
  if (vpx_codec_decode(&d->ctx, d->in, (unsigned int)n, NULL, 0) != VPX_CODEC_OK) {
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
  if (img->d_w == 0 || img->d_h == 0 || img->d_w > MAX_SIDE || img->d_h > MAX_SIDE) {
    snprintf(err, errn, "picture size %ux%u out of range", img->d_w, img->d_h);
    return -1;
  }
  // VP8 yields at most one picture per frame; drain defensively.
  while (vpx_codec_get_frame(&d->ctx, &it)) {
  }
  d->img = img;
  *w = (int)img->d_w;
  *h = (int)img->d_h;
  return 1;
}

// One output row from a luma row and the chroma rows it shares.
static inline void row_bgr(const uint8_t *restrict yr, const uint8_t *restrict ur,
                           const uint8_t *restrict vr, uint8_t *restrict o, int w) {
  const uint8_t *c = clip + CLIP_OFF;
  int x = 0;
  for (; x + 1 < w; x += 2) {
    int u = ur[x >> 1], v = vr[x >> 1];
    int b = tabBU[u], g = tabGU[u] + tabGV[v], r = tabRV[v];
    int y0 = tabY[yr[x]], y1 = tabY[yr[x + 1]];
    o[0] = c[(y0 + b) >> 8];
    o[1] = c[(y0 + g) >> 8];
    o[2] = c[(y0 + r) >> 8];
    o[3] = c[(y1 + b) >> 8];
    o[4] = c[(y1 + g) >> 8];
    o[5] = c[(y1 + r) >> 8];
    o += 6;
  }
  if (x < w) {  // odd width
    int u = ur[x >> 1], v = vr[x >> 1];
    int y0 = tabY[yr[x]];
    o[0] = c[(y0 + tabBU[u]) >> 8];
    o[1] = c[(y0 + tabGU[u] + tabGV[v]) >> 8];
    o[2] = c[(y0 + tabRV[v]) >> 8];
  }
}

#if defined(__x86_64__) || defined(__i386__)
// row_ssse3 is row_bgr with SSSE3, 16 pixels per step (about 5x faster):
// the same formula in 16-bit fixed point with 6 fraction bits, within one
// level of the exact BT.601 result. The tail goes to row_bgr.
__attribute__((target("ssse3"))) static void row_ssse3(const uint8_t *restrict yr, const uint8_t *restrict ur,
                                                       const uint8_t *restrict vr, uint8_t *restrict o, int w) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i y16 = _mm_set1_epi16(16), c128 = _mm_set1_epi16(128), rnd = _mm_set1_epi16(32);
  const __m128i kY = _mm_set1_epi16(19072), kBU = _mm_set1_epi16(16512), kGU = _mm_set1_epi16(-3200),
                kGV = _mm_set1_epi16(-6656), kRV = _mm_set1_epi16(13088);
  // Byte p of each 16-byte output block takes channel p%3 of pixel p/3.
  const __m128i b0 = _mm_setr_epi8(0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5);
  const __m128i g0 = _mm_setr_epi8(-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1);
  const __m128i r0 = _mm_setr_epi8(-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1);
  const __m128i b1 = _mm_setr_epi8(-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1);
  const __m128i g1 = _mm_setr_epi8(5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10);
  const __m128i r1 = _mm_setr_epi8(-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1);
  const __m128i b2 = _mm_setr_epi8(-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1);
  const __m128i g2 = _mm_setr_epi8(-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1);
  const __m128i r2 = _mm_setr_epi8(10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15);
  int x = 0;
  for (; x + 16 <= w; x += 16) {
    __m128i yv = _mm_loadu_si128((const __m128i *)(yr + x));
    __m128i uv = _mm_loadl_epi64((const __m128i *)(ur + x / 2));
    __m128i vv = _mm_loadl_epi64((const __m128i *)(vr + x / 2));
    __m128i ylo = _mm_slli_epi16(_mm_sub_epi16(_mm_unpacklo_epi8(yv, zero), y16), 7);
    __m128i yhi = _mm_slli_epi16(_mm_sub_epi16(_mm_unpackhi_epi8(yv, zero), y16), 7);
    ylo = _mm_add_epi16(_mm_mulhrs_epi16(ylo, kY), rnd);
    yhi = _mm_add_epi16(_mm_mulhrs_epi16(yhi, kY), rnd);
    __m128i d = _mm_slli_epi16(_mm_sub_epi16(_mm_unpacklo_epi8(uv, zero), c128), 8);
    __m128i e = _mm_slli_epi16(_mm_sub_epi16(_mm_unpacklo_epi8(vv, zero), c128), 8);
    __m128i cb = _mm_mulhrs_epi16(d, kBU);
    __m128i cg = _mm_add_epi16(_mm_mulhrs_epi16(d, kGU), _mm_mulhrs_epi16(e, kGV));
    __m128i cr = _mm_mulhrs_epi16(e, kRV);
#define CH(c, lo, hi)                                                                     \
  _mm_packus_epi16(_mm_srai_epi16(_mm_adds_epi16(ylo, _mm_unpacklo_epi16(c, c)), 6), \
                   _mm_srai_epi16(_mm_adds_epi16(yhi, _mm_unpackhi_epi16(c, c)), 6))
    __m128i B = CH(cb, lo, hi), G = CH(cg, lo, hi), R = CH(cr, lo, hi);
#undef CH
    __m128i o0 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(B, b0), _mm_shuffle_epi8(G, g0)), _mm_shuffle_epi8(R, r0));
    __m128i o1 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(B, b1), _mm_shuffle_epi8(G, g1)), _mm_shuffle_epi8(R, r1));
    __m128i o2 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(B, b2), _mm_shuffle_epi8(G, g2)), _mm_shuffle_epi8(R, r2));
    _mm_storeu_si128((__m128i *)(o + 3 * x), o0);
    _mm_storeu_si128((__m128i *)(o + 3 * x + 16), o1);
    _mm_storeu_si128((__m128i *)(o + 3 * x + 32), o2);
  }
  if (x < w) row_bgr(yr + x, ur + x / 2, vr + x / 2, o + 3 * x, w - x);
}
#endif

int vidid_vp8_bgr(vidid_vp8 *d, uint8_t *dst, size_t dstlen) {
  const vpx_image_t *img = d->img;
  if (!img) return -1;
  int w = (int)img->d_w, h = (int)img->d_h;
  size_t stride = (size_t)w * 3;
  if (dstlen < stride * (size_t)h) return -1;
  void (*row)(const uint8_t *, const uint8_t *, const uint8_t *, uint8_t *, int) = row_bgr;
#if defined(__x86_64__) || defined(__i386__)
  if (__atomic_load_n(&use_ssse3, __ATOMIC_RELAXED)) row = row_ssse3;
#endif
  for (int y = 0; y < h; y++) {
    row(img->planes[0] + (size_t)y * img->stride[0],
            img->planes[1] + (size_t)(y >> 1) * img->stride[1],
            img->planes[2] + (size_t)(y >> 1) * img->stride[2], dst + (size_t)y * stride, w);
  }
  return 0;
}

int vidid_vp8_simd(int on) {
  pthread_once(&tabs_once, init_tabs);
  int was = __atomic_load_n(&use_ssse3, __ATOMIC_RELAXED);
#if defined(__x86_64__) || defined(__i386__)
  __atomic_store_n(&use_ssse3, on && __builtin_cpu_supports("ssse3"), __ATOMIC_RELAXED);
#endif
  return was;
}

void vidid_vp8_free(vidid_vp8 *d) {
  if (!d) return;
  vpx_codec_destroy(&d->ctx);
  free(d->in);
  free(d);
}
