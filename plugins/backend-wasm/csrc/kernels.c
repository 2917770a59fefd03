/*
 * Training kernels for @keypoints/backend-wasm: wasm SIMD128, run on tfjs-backend-wasm's own
 * (shared) memory by several instances of this module, one per thread.
 *
 * Rules that keep this module safe inside another module's memory:
 *   - no data segments, no globals written, no stack use (no arrays whose address escapes, every
 *     helper always_inline): csrc/build.sh checks the compiled module for all of this;
 *   - every pointer comes from the caller (tensors and scratch allocated with tfjs's malloc);
 *   - each entry point does the share `tid` of `nthreads` of its work; the caller runs every
 *     thread's share and waits for all of them before using the result.
 *
 * Layouts are tfjs's: NHWC activations, HWIO filters [KH, KW, Cin, Cout], float32.
 * Rebuild: plugins/backend-wasm/csrc/build.sh (Debian clang-14 + lld-14).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define INLINE static inline __attribute__((always_inline))
#define EXPORT(name) __attribute__((export_name(name)))

INLINE int imin(int a, int b) { return a < b ? a : b; }
INLINE int imax(int a, int b) { return a > b ? a : b; }

/* [lo, hi) of `total` items for thread `tid` of `n`, in units of `unit` items. */
INLINE void share(int total, int unit, int tid, int n, int *lo, int *hi) {
  int units = (total + unit - 1) / unit;
  int per = (units + n - 1) / n;
  *lo = imin(total, tid * per * unit);
  *hi = imin(total, (tid + 1) * per * unit);
}

INLINE void zero_floats(float *p, int count) {
  if (count > 0) __builtin_memset(p, 0, (unsigned)count * 4u);
}

/* ------------------------------------------------------------------------------------------ */
/* Conv2D filter gradient                                                                      */
/*   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*sH + kh, ow*sW + kw, ci] * dy[n, oh, ow, co] */
/* x is already padded (the caller pads it when the convolution has padding).                  */
/* A GEMM with rows m = (kh, kw, ci) (offset off(m) = (kh*W + kw)*Cin + ci from a pixel's      */
/* corner), columns co and the reduction over pixels; threads split the columns. Each image is */
/* summed into `scratch` (same layout as dW) first, then added to dW, so float32 sums stay     */
/* short.                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/*
 * The register tile every product here runs on (the GEMM, the filter gradient, the forward
 * convolution): an MR x (4*NV) block, MR <= 4, NV <= 2, of
 *   s[i*sstride + c] += sum_{t < n} xp_t[o_i] * dp_t[c],  xp_t = xrow + t*xstep, dp_t = dyrow + t*dystep
 * (filter gradient: i a filter row, t an output pixel; GEMM: i a row of A, t the depth).
 * 4-row tiles: 8 accumulators. 6-row tiles (12 accumulators + 2 operands + 1 broadcast) need all 15
 * vector registers V8 allocates on x64 and ran 15-25 % slower.
 */
INLINE void dw_tile(const int mr, const int nv, const float *xrow, int xstep, int o0, int o1, int o2,
                    int o3, const float *dyrow, int dystep, int ow_n, float *s, int sstride) {
  v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  v128_t a30 = a00, a31 = a00;
  const float *xp = xrow;
  const float *dp = dyrow;
  for (int ow = 0; ow < ow_n; ow++) {
    v128_t b0 = wasm_v128_load(dp);
    v128_t b1 = nv > 1 ? wasm_v128_load(dp + 4) : b0;
    v128_t x;
    x = wasm_v128_load32_splat(xp + o0);
    a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x, b0));
    if (nv > 1) a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x, b1));
    if (mr > 1) {
      x = wasm_v128_load32_splat(xp + o1);
      a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x, b0));
      if (nv > 1) a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x, b1));
    }
    if (mr > 2) {
      x = wasm_v128_load32_splat(xp + o2);
      a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x, b0));
      if (nv > 1) a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x, b1));
    }
    if (mr > 3) {
      x = wasm_v128_load32_splat(xp + o3);
      a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x, b0));
      if (nv > 1) a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x, b1));
    }
    xp += xstep;
    dp += dystep;
  }
#define DW_ACC(i, a0, a1)                                                              \
  if (mr > i) {                                                                        \
    float *q = s + i * sstride;                                                        \
    wasm_v128_store(q, wasm_f32x4_add(wasm_v128_load(q), a0));                         \
    if (nv > 1) wasm_v128_store(q + 4, wasm_f32x4_add(wasm_v128_load(q + 4), a1));    \
  }
  DW_ACC(0, a00, a01) DW_ACC(1, a10, a11) DW_ACC(2, a20, a21) DW_ACC(3, a30, a31)
#undef DW_ACC
}

/* offs[m]: x offset of filter row m from a window's corner, precomputed by the caller (computing it
   per tile costs divisions, ~15 % of the kernel). */
INLINE void dw_tiles(const int mr, int m0, const float *xrow, int xstep, const int32_t *offs,
                     const float *dyrow, int Cout, int ow_n, float *s, int ss, int c_vec) {
  int o0 = offs[m0];
  int o1 = mr > 1 ? offs[m0 + 1] : 0;
  int o2 = mr > 2 ? offs[m0 + 2] : 0;
  int o3 = mr > 3 ? offs[m0 + 3] : 0;
  float *srow = s + m0 * ss;
  int c = 0;
  for (; c + 8 <= c_vec; c += 8)
    dw_tile(mr, 2, xrow, xstep, o0, o1, o2, o3, dyrow + c, Cout, ow_n, srow + c, ss);
  for (; c + 4 <= c_vec; c += 4)
    dw_tile(mr, 1, xrow, xstep, o0, o1, o2, o3, dyrow + c, Cout, ow_n, srow + c, ss);
}

/*
 * args: x, dy, dw, scratch (pointers), N, H, W, Cin (padded x), oH, oW, Cout, KH, KW, sH, sW,
 * tc, psplit, offs (pointer: M int32 offsets ((kh*W + kw)*Cin + ci) of row m = (kh*KW + kw)*Cin + ci).
 * dw: [KH*KW*Cin, Cout]. Each thread owns two private [M, tc] blocks at
 * scratch + 2*t*M*tc (the image sum and the running total), so threads never write the same cache
 * line while they work (scratch and tc keep 64-byte alignment).
 * psplit = 0: thread t computes columns [t*tc, (t+1)*tc) (tc a multiple of 4) over all images and
 *   copies them into dw.
 * psplit = 1: thread t computes all columns (tc >= Cout) over its share of the images and leaves
 *   its total in its block; the caller adds the blocks with `sum_blocks`. Used when there are few
 *   output channels: every thread then streams whole rows of dy (conv1 of net2: 32 channels).
 */
EXPORT("conv2d_filter_grad")
void conv2d_filter_grad(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *dy = (const float *)args[1];
  float *dw = (float *)args[2];
  float *scratch = (float *)args[3];
  int N = args[4], H = args[5], W = args[6], Cin = args[7];
  int oH = args[8], oW = args[9], Cout = args[10], KH = args[11], KW = args[12];
  int sH = args[13], sW = args[14], tc = args[15], psplit = args[16];
  const int32_t *offs = (const int32_t *)args[17];
  int M = KH * KW * Cin;
  int c_lo = psplit ? 0 : tid * tc, c_hi = psplit ? Cout : imin(Cout, c_lo + tc);
  int n_lo = 0, n_hi = N;
  if (psplit) share(N, 1, tid, nthreads, &n_lo, &n_hi);
  if (c_lo >= c_hi) return;
  int cols = c_hi - c_lo;
  int c_vec = cols & ~3;
  float *img = scratch + (long)2 * tid * M * tc; /* [M, tc], column j = output column c_lo + j */
  float *total = img + (long)M * tc;
  zero_floats(total, M * tc);
  for (int n = n_lo; n < n_hi; n++) {
    zero_floats(img, M * tc);
    for (int oh = 0; oh < oH; oh++) {
      const float *xrow = x + ((long)(n * H + oh * sH) * W) * Cin;
      const float *dyrow = dy + ((long)(n * oH + oh) * oW) * Cout + c_lo;
      int m0 = 0;
      for (; m0 + 4 <= M; m0 += 4)
        dw_tiles(4, m0, xrow, sW * Cin, offs, dyrow, Cout, oW, img, tc, c_vec);
      switch (M - m0) {
        case 3: dw_tiles(3, m0, xrow, sW * Cin, offs, dyrow, Cout, oW, img, tc, c_vec); break;
        case 2: dw_tiles(2, m0, xrow, sW * Cin, offs, dyrow, Cout, oW, img, tc, c_vec); break;
        case 1: dw_tiles(1, m0, xrow, sW * Cin, offs, dyrow, Cout, oW, img, tc, c_vec); break;
        default: break;
      }
      /* columns past the last multiple of 4 (Cout % 4 != 0): scalar */
      for (int j = c_vec; j < cols; j++) {
        for (int m = 0; m < M; m++) {
          int off = offs[m];
          float acc = 0;
          for (int ow = 0; ow < oW; ow++) acc += xrow[ow * sW * Cin + off] * dyrow[ow * Cout + j];
          img[m * tc + j] += acc;
        }
      }
    }
    for (int i = 0; i + 4 <= M * tc; i += 4)
      wasm_v128_store(total + i, wasm_f32x4_add(wasm_v128_load(total + i), wasm_v128_load(img + i)));
  }
  if (!psplit)
    for (int m = 0; m < M; m++) __builtin_memcpy(dw + (long)m * Cout + c_lo, total + (long)m * tc, (unsigned)cols * 4u);
}

/*
 * out[m, c] = sum_t blocks[t][m, c] for t < count, where block t starts at blocks + t*bstride and
 * has row stride ld (the totals conv2d_filter_grad leaves with psplit = 1).
 * args: blocks, out (pointers), count, bstride, M, C, ld. Threads split the rows.
 */
EXPORT("sum_blocks")
void sum_blocks(const int32_t *args, int tid, int nthreads) {
  const float *blocks = (const float *)args[0];
  float *out = (float *)args[1];
  int count = args[2], bstride = args[3], M = args[4], C = args[5], ld = args[6];
  int m_lo, m_hi;
  share(M, 1, tid, nthreads, &m_lo, &m_hi);
  for (int m = m_lo; m < m_hi; m++) {
    for (int c = 0; c < C; c++) {
      float acc = 0;
      for (int t = 0; t < count; t++) acc += blocks[(long)t * bstride + (long)m * ld + c];
      out[(long)m * C + c] = acc;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Per-channel sums over the leading axes (rows p of C channels):                              */
/*   mode 0: s1[c] = sum_p a[p, c]  (tfjs Sum / Mean over leading axes: bias gradients, the     */
/*           batch mean and variance of batch normalization);                                   */
/*   mode 1: s1[c] = sum_p a[p, c], s2[c] = sum_p a[p, c] * (b[p, c] - mean[c])  (the batch-norm */
/*           gradient: a = dy, b = x).                                                          */
/* Threads split the rows (so every thread streams its own part of memory, also for few        */
/* channels); thread t writes the float64 sums of its rows to part + 2*C*t (s1, then s2) and   */
/* the caller adds the threads' parts. 64-row float32 partial sums are folded into float64.    */
/* args: a, b, mean (0, 0 in mode 0), part (float64, 2*C per thread) (pointers), P, C, mode.   */
/* ------------------------------------------------------------------------------------------ */
INLINE void fold4(double *d, v128_t s) {
  v128_t lo = wasm_f64x2_promote_low_f32x4(s);
  v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
  wasm_v128_store(d, wasm_f64x2_add(wasm_v128_load(d), lo));
  wasm_v128_store(d + 2, wasm_f64x2_add(wasm_v128_load(d + 2), hi));
}

EXPORT("channel_sums")
void channel_sums(const int32_t *args, int tid, int nthreads) {
  const float *a = (const float *)args[0];
  const float *b = (const float *)args[1];
  const float *mean = (const float *)args[2];
  double *s1 = (double *)args[3] + (long)2 * args[5] * tid;
  int P = args[4], C = args[5], mode = args[6];
  double *s2 = s1 + C;
  __builtin_memset(s1, 0, (unsigned)C * 16u);
  int lo, hi;
  share(P, 1, tid, nthreads, &lo, &hi);
  for (int p0 = lo; p0 < hi; p0 += 64) {
    int p1 = imin(hi, p0 + 64);
    const float *ar = a + (long)p0 * C;
    const float *br = mode ? b + (long)p0 * C : 0;
    int c = 0;
    if (mode == 0) {
      for (; c + 16 <= C; c += 16) {
        v128_t t0 = wasm_f32x4_splat(0), t1 = t0, t2 = t0, t3 = t0;
        const float *q = ar + c;
        for (int p = p0; p < p1; p++, q += C) {
          t0 = wasm_f32x4_add(t0, wasm_v128_load(q));
          t1 = wasm_f32x4_add(t1, wasm_v128_load(q + 4));
          t2 = wasm_f32x4_add(t2, wasm_v128_load(q + 8));
          t3 = wasm_f32x4_add(t3, wasm_v128_load(q + 12));
        }
        fold4(s1 + c, t0), fold4(s1 + c + 4, t1), fold4(s1 + c + 8, t2), fold4(s1 + c + 12, t3);
      }
      for (; c + 4 <= C; c += 4) {
        v128_t t0 = wasm_f32x4_splat(0);
        const float *q = ar + c;
        for (int p = p0; p < p1; p++, q += C) t0 = wasm_f32x4_add(t0, wasm_v128_load(q));
        fold4(s1 + c, t0);
      }
      for (; c < C; c++) {
        double t = 0;
        for (int p = p0; p < p1; p++) t += ar[(long)(p - p0) * C + c];
        s1[c] += t;
      }
    } else {
      for (; c + 8 <= C; c += 8) {
        v128_t t0 = wasm_f32x4_splat(0), t1 = t0, u0 = t0, u1 = t0;
        v128_t m0 = wasm_v128_load(mean + c), m1 = wasm_v128_load(mean + c + 4);
        const float *q = ar + c, *r = br + c;
        for (int p = p0; p < p1; p++, q += C, r += C) {
          v128_t g0 = wasm_v128_load(q), g1 = wasm_v128_load(q + 4);
          t0 = wasm_f32x4_add(t0, g0);
          t1 = wasm_f32x4_add(t1, g1);
          u0 = wasm_f32x4_add(u0, wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(r), m0)));
          u1 = wasm_f32x4_add(u1, wasm_f32x4_mul(g1, wasm_f32x4_sub(wasm_v128_load(r + 4), m1)));
        }
        fold4(s1 + c, t0), fold4(s1 + c + 4, t1), fold4(s2 + c, u0), fold4(s2 + c + 4, u1);
      }
      for (; c + 4 <= C; c += 4) {
        v128_t t0 = wasm_f32x4_splat(0), u0 = t0, m0 = wasm_v128_load(mean + c);
        const float *q = ar + c, *r = br + c;
        for (int p = p0; p < p1; p++, q += C, r += C) {
          v128_t g0 = wasm_v128_load(q);
          t0 = wasm_f32x4_add(t0, g0);
          u0 = wasm_f32x4_add(u0, wasm_f32x4_mul(g0, wasm_f32x4_sub(wasm_v128_load(r), m0)));
        }
        fold4(s1 + c, t0), fold4(s2 + c, u0);
      }
      for (; c < C; c++) {
        double t = 0, u = 0;
        for (int p = p0; p < p1; p++) {
          float g = ar[(long)(p - p0) * C + c];
          t += g;
          u += g * (br[(long)(p - p0) * C + c] - mean[c]);
        }
        s1[c] += t, s2[c] += u;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Max-pool gradient with first-max routing (TensorFlow's and the tfjs cpu backend's rule: a   */
/* window's gradient goes to its first maximum in raster order; NaN never wins; a window of    */
/* only padding or NaN routes nothing).                                                        */
/* args: x, dy, dx (pointers), N, H, W, C, oH, oW, KH, KW, sH, sW, padTop, padLeft.            */
/* Threads split the images (windows of one image may overlap, images never do).               */
/* ------------------------------------------------------------------------------------------ */
EXPORT("max_pool_grad")
void max_pool_grad(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *dy = (const float *)args[1];
  float *dx = (float *)args[2];
  int N = args[3], H = args[4], W = args[5], C = args[6], oH = args[7], oW = args[8];
  int KH = args[9], KW = args[10], sH = args[11], sW = args[12], pt = args[13], pl = args[14];
  int n_lo, n_hi;
  share(N, 1, tid, nthreads, &n_lo, &n_hi);
  const long img = (long)H * W * C;
  const v128_t neg_inf = wasm_f32x4_splat(-__builtin_inff());
  /* Windows that tile the input without overlap or padding: each dx element is written once. */
  const int tiled = sH == KH && sW == KW && pt == 0 && pl == 0;
  for (int n = n_lo; n < n_hi; n++) {
    const float *xi = x + n * img;
    float *dxi = dx + n * img;
    if (!tiled) {
      zero_floats(dxi, (int)img);
    } else {
      /* rows and columns no window covers */
      for (int h = oH * KH; h < H; h++) zero_floats(dxi + (long)h * W * C, W * C);
      if (oW * KW < W)
        for (int h = 0; h < oH * KH; h++) zero_floats(dxi + ((long)h * W + oW * KW) * C, (W - oW * KW) * C);
    }
    for (int oh = 0; oh < oH; oh++) {
      int h0 = oh * sH - pt;
      int kh_lo = imax(0, -h0), kh_hi = imin(KH, H - h0);
      for (int ow = 0; ow < oW; ow++) {
        int w0 = ow * sW - pl;
        int kw_lo = imax(0, -w0), kw_hi = imin(KW, W - w0);
        const float *g = dy + (((long)n * oH + oh) * oW + ow) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t best = neg_inf;
          v128_t at = wasm_i32x4_splat(-1);
          for (int kh = kh_lo; kh < kh_hi; kh++) {
            for (int kw = kw_lo; kw < kw_hi; kw++) {
              v128_t v = wasm_v128_load(xi + ((long)(h0 + kh) * W + (w0 + kw)) * C + c);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              at = wasm_v128_bitselect(wasm_i32x4_splat(kh * KW + kw), at, gt);
            }
          }
          v128_t gv = wasm_v128_load(g + c);
          for (int kh = kh_lo; kh < kh_hi; kh++) {
            for (int kw = kw_lo; kw < kw_hi; kw++) {
              v128_t hit = wasm_i32x4_eq(at, wasm_i32x4_splat(kh * KW + kw));
              float *p = dxi + ((long)(h0 + kh) * W + (w0 + kw)) * C + c;
              if (tiled) {
                wasm_v128_store(p, wasm_v128_and(gv, hit));
              } else if (wasm_v128_any_true(hit)) {
                wasm_v128_store(p, wasm_f32x4_add(wasm_v128_load(p), wasm_v128_and(gv, hit)));
              }
            }
          }
        }
        for (; c < C; c++) {
          float best = -__builtin_inff();
          int at = -1;
          for (int kh = kh_lo; kh < kh_hi; kh++) {
            for (int kw = kw_lo; kw < kw_hi; kw++) {
              long q = ((long)(h0 + kh) * W + (w0 + kw)) * C + c;
              if (tiled) dxi[q] = 0;
              if (xi[q] > best) {
                best = xi[q];
                at = (int)q;
              }
            }
          }
          if (at >= 0) dxi[at] += g[c];
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* ReLU gradient: dx = dy * step(x), step(x) = x > 0 ? 1 : 0 (NaN for NaN), exactly as tfjs's   */
/* stock gradient mul(dy, step(x)) computes it, in one pass.                                   */
/* args: dy, x, dx (pointers), size. Threads split the elements.                               */
/* ------------------------------------------------------------------------------------------ */
EXPORT("relu_grad")
void relu_grad(const int32_t *args, int tid, int nthreads) {
  const float *dy = (const float *)args[0];
  const float *x = (const float *)args[1];
  float *dx = (float *)args[2];
  int size = args[3];
  int lo, hi;
  share(size, 64, tid, nthreads, &lo, &hi);
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  int i = lo;
  for (; i + 4 <= hi; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t step = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(v, zero));
    step = wasm_v128_or(step, wasm_v128_and(v, wasm_f32x4_ne(v, v)));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), step));
  }
  for (; i < hi; i++) {
    float v = x[i];
    dx[i] = dy[i] * (v != v ? v : v > 0 ? 1.0f : 0.0f);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Spread and pad: out[n, top + i*sH, left + j*sW, :] = in[n, i, j, :], zero elsewhere (rows   */
/* or columns that land outside out are dropped: negative padding crops). With sH = sW = 1 it  */
/* pads; with strides it inserts the zeros of a transposed convolution.                        */
/* args: in, out (pointers), N, h, w, C, Ho, Wo, top, left, sH, sW. Threads split the images.  */
/* ------------------------------------------------------------------------------------------ */
EXPORT("spread_pad")
void spread_pad(const int32_t *args, int tid, int nthreads) {
  const float *in = (const float *)args[0];
  float *out = (float *)args[1];
  int N = args[2], h = args[3], w = args[4], C = args[5], Ho = args[6], Wo = args[7];
  int top = args[8], left = args[9], sH = args[10], sW = args[11];
  int n_lo, n_hi;
  share(N, 1, tid, nthreads, &n_lo, &n_hi);
  for (int n = n_lo; n < n_hi; n++) {
    float *o = out + (long)n * Ho * Wo * C;
    zero_floats(o, Ho * Wo * C);
    for (int i = 0; i < h; i++) {
      int r = top + i * sH;
      if (r < 0 || r >= Ho) continue;
      const float *src = in + ((long)n * h + i) * w * C;
      float *dst = o + (long)r * Wo * C;
      if (sW == 1) {
        int j0 = imax(0, -left), j1 = imin(w, Wo - left);
        if (j1 > j0) __builtin_memcpy(dst + (long)(left + j0) * C, src + (long)j0 * C, (unsigned)(j1 - j0) * C * 4u);
      } else {
        for (int j = 0; j < w; j++) {
          int col = left + j * sW;
          if (col < 0 || col >= Wo) continue;
          __builtin_memcpy(dst + (long)col * C, src + (long)j * C, (unsigned)C * 4u);
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Filter for the input gradient: out[kh, kw, co, ci] = f[KH-1-kh, KW-1-kw, ci, co].           */
/* args: f, out (pointers), KH, KW, Cin, Cout. Thread 0 does it all (filters are small).       */
/* ------------------------------------------------------------------------------------------ */
EXPORT("flip_filter")
void flip_filter(const int32_t *args, int tid, int nthreads) {
  (void)nthreads;
  if (tid != 0) return;
  const float *f = (const float *)args[0];
  float *out = (float *)args[1];
  int KH = args[2], KW = args[3], Cin = args[4], Cout = args[5];
  for (int kh = 0; kh < KH; kh++)
    for (int kw = 0; kw < KW; kw++) {
      const float *src = f + ((long)(KH - 1 - kh) * KW + (KW - 1 - kw)) * Cin * Cout;
      float *dst = out + ((long)kh * KW + kw) * Cout * Cin;
      for (int ci = 0; ci < Cin; ci++)
        for (int co = 0; co < Cout; co++) dst[co * Cin + ci] = src[ci * Cout + co];
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Matrix products on all threads. tfjs-backend-wasm's XNNPACK path re-packs the whole          */
/* "weights" operand on every call (in training a new tensor each step: 31 MB for net2's first */
/* dense layer) and runs transposed operands on a scalar loop.                                  */
/* ------------------------------------------------------------------------------------------ */

/*
 * C[M, N] = A·B with A(m, k) = a[m*sam + k*sak] and B(k, n) = b[k*sbk + n*sbn]: any strides, so
 * A, Aᵀ, B and Bᵀ stored row-major all work; C row-major with row stride ldc.
 * For each 256-deep slice of k, a thread copies its columns of B into contiguous [k][8] panels
 * (so the inner loop streams them; strided rows of a wide B defeat the prefetchers), then runs
 * 4-row x 8-column register tiles (dw_tile) with the panels as the vector operand.
 * Threads split the columns of C (nsplit = 1: for few rows, each thread packs only its own
 * columns) or its rows (nsplit = 0: each thread packs the whole slice of B).
 * args: a, b, c, pack (pointers), M, N, K, sam, sak, sbk, sbn, ldc, nsplit, pack floats per thread.
 */
#define GEMM_KC 256

INLINE void pack_panel(const int w, const float *b, int sbk, int sbn, int kc, float *out) {
  if (sbn == 1) {
    for (int k = 0; k < kc; k++) {
      const float *r = b + (long)k * sbk;
      wasm_v128_store(out + k * w, wasm_v128_load(r));
      if (w == 8) wasm_v128_store(out + k * w + 4, wasm_v128_load(r + 4));
    }
  } else if (sbk == 1) {
    /* columns of B are contiguous in k: 4 x 4 transposes */
    int k = 0;
    for (; k + 4 <= kc; k += 4) {
      for (int j = 0; j < w; j += 4) {
        v128_t r0 = wasm_v128_load(b + (long)(j + 0) * sbn + k);
        v128_t r1 = wasm_v128_load(b + (long)(j + 1) * sbn + k);
        v128_t r2 = wasm_v128_load(b + (long)(j + 2) * sbn + k);
        v128_t r3 = wasm_v128_load(b + (long)(j + 3) * sbn + k);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
        v128_t t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(out + (k + 0) * w + j, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
        wasm_v128_store(out + (k + 1) * w + j, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
        wasm_v128_store(out + (k + 2) * w + j, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
        wasm_v128_store(out + (k + 3) * w + j, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
      }
    }
    for (; k < kc; k++)
      for (int j = 0; j < w; j++) out[k * w + j] = b[(long)j * sbn + k];
  } else {
    for (int k = 0; k < kc; k++)
      for (int j = 0; j < w; j++) out[k * w + j] = b[(long)k * sbk + (long)j * sbn];
  }
}

INLINE void nn_tiles(const int nv, const float *a, int sam, int sak, const float *panel, int kc, float *c,
                     int ldc, int m_lo, int m_hi) {
  for (int m0 = m_lo; m0 < m_hi; m0 += 4) {
    int mr = imin(4, m_hi - m0);
    const float *pa = a + (long)m0 * sam;
    float *pc = c + (long)m0 * ldc;
    switch (mr) {
      case 4: dw_tile(4, nv, pa, sak, 0, sam, 2 * sam, 3 * sam, panel, 4 * nv, kc, pc, ldc); break;
      case 3: dw_tile(3, nv, pa, sak, 0, sam, 2 * sam, 0, panel, 4 * nv, kc, pc, ldc); break;
      case 2: dw_tile(2, nv, pa, sak, 0, sam, 0, 0, panel, 4 * nv, kc, pc, ldc); break;
      default: dw_tile(1, nv, pa, sak, 0, 0, 0, 0, panel, 4 * nv, kc, pc, ldc); break;
    }
  }
}

EXPORT("gemm")
void gemm(const int32_t *args, int tid, int nthreads) {
  const float *a = (const float *)args[0];
  const float *b = (const float *)args[1];
  float *c = (float *)args[2];
  float *pack = (float *)args[3] + (long)tid * args[13];
  int M = args[4], N = args[5], K = args[6], sam = args[7], sak = args[8], sbk = args[9], sbn = args[10];
  int ldc = args[11], nsplit = args[12];
  int m_lo = 0, m_hi = M, n_lo = 0, n_hi = N;
  if (nsplit) share(N, 8, tid, nthreads, &n_lo, &n_hi);
  else share(M, 6, tid, nthreads, &m_lo, &m_hi);
  if (m_lo >= m_hi || n_lo >= n_hi) return;
  for (int m = m_lo; m < m_hi; m++) zero_floats(c + (long)m * ldc + n_lo, n_hi - n_lo);
  int n8 = n_lo + ((n_hi - n_lo) & ~7);
  int n4 = n_lo + ((n_hi - n_lo) & ~3);
  for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
    int kc = imin(GEMM_KC, K - k0);
    const float *ak = a + (long)k0 * sak;
    const float *bk = b + (long)k0 * sbk;
    float *panel = pack;
    for (int n = n_lo; n < n8; n += 8, panel += 8 * kc) pack_panel(8, bk + (long)n * sbn, sbk, sbn, kc, panel);
    if (n4 > n8) pack_panel(4, bk + (long)n8 * sbn, sbk, sbn, kc, panel);
    /* rows of 4 outer: the A tile stays in L1 while the packed panels stream from L2 */
    for (int m0 = m_lo; m0 < m_hi; m0 += 4) {
      int m1 = imin(m_hi, m0 + 4);
      panel = pack;
      for (int n = n_lo; n < n8; n += 8, panel += 8 * kc) nn_tiles(2, ak, sam, sak, panel, kc, c + n, ldc, m0, m1);
      if (n4 > n8) nn_tiles(1, ak, sam, sak, panel, kc, c + n8, ldc, m0, m1);
    }
    for (int m = m_lo; m < m_hi; m++) {
      for (int j = n4; j < n_hi; j++) {
        float acc = 0;
        for (int k = 0; k < kc; k++) acc += ak[(long)m * sam + (long)k * sak] * bk[(long)k * sbk + (long)j * sbn];
        c[(long)m * ldc + j] += acc;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Elementwise binary op broadcast over the trailing axis, then an optional ReLU:               */
/*   out[r, c] = act(A(r, c) op B(r, c)),  op: 0 add, 1 sub, 2 mul, 3 div, 4 none (out = act(A)) */
/* An operand is full ([rows, C], kind 0) or per channel ([C], kind 1: a bias, a batch-norm     */
/* scale, a mean of shape [1, 1, 1, C]). tfjs's Add/Sub/Multiply/RealDiv of such operands, a    */
/* bias Add, and the bias + ReLU epilogue of the dense GEMM (in place). One IEEE op per element,*/
/* as the cpu backend computes it (float32 results of float32 inputs).                         */
/* args: a, b (ignored with op 4), out (may be a), rows, C, akind, bkind, op, relu.             */
/* Threads split the rows.                                                                      */
/* ------------------------------------------------------------------------------------------ */
INLINE v128_t bin_v(const int op, v128_t x, v128_t y) {
  switch (op) {
    case 0: return wasm_f32x4_add(x, y);
    case 1: return wasm_f32x4_sub(x, y);
    case 2: return wasm_f32x4_mul(x, y);
    case 3: return wasm_f32x4_div(x, y);
    default: return x;
  }
}

INLINE float bin_s(const int op, float x, float y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    default: return x;
  }
}

/* o[i] = act(a[i] op b[i]) for i < n */
INLINE void bin_run(const int op, int relu, const float *a, const float *b, float *o, int n) {
  const v128_t z = wasm_f32x4_splat(0);
#define BIN_AT(i) bin_v(op, wasm_v128_load(a + (i)), op == 4 ? z : wasm_v128_load(b + (i)))
  int i = 0;
  if (relu) {
    for (; i + 16 <= n; i += 16) {
      v128_t v0 = BIN_AT(i), v1 = BIN_AT(i + 4), v2 = BIN_AT(i + 8), v3 = BIN_AT(i + 12);
      wasm_v128_store(o + i, wasm_f32x4_max(v0, z));
      wasm_v128_store(o + i + 4, wasm_f32x4_max(v1, z));
      wasm_v128_store(o + i + 8, wasm_f32x4_max(v2, z));
      wasm_v128_store(o + i + 12, wasm_f32x4_max(v3, z));
    }
    for (; i + 4 <= n; i += 4) wasm_v128_store(o + i, wasm_f32x4_max(BIN_AT(i), z));
  } else {
    for (; i + 16 <= n; i += 16) {
      v128_t v0 = BIN_AT(i), v1 = BIN_AT(i + 4), v2 = BIN_AT(i + 8), v3 = BIN_AT(i + 12);
      wasm_v128_store(o + i, v0);
      wasm_v128_store(o + i + 4, v1);
      wasm_v128_store(o + i + 8, v2);
      wasm_v128_store(o + i + 12, v3);
    }
    for (; i + 4 <= n; i += 4) wasm_v128_store(o + i, BIN_AT(i));
  }
#undef BIN_AT
  for (; i < n; i++) {
    float v = bin_s(op, a[i], op == 4 ? 0 : b[i]);
    o[i] = relu && v < 0 ? 0 : v;
  }
}

/* rows [r_lo, r_hi) of C elements; a per-channel operand restarts at every row */
INLINE void bin_rows(const int op, const int ka, const int kb, int relu, const float *a, const float *b, float *o,
                     int C, int r_lo, int r_hi) {
  for (int r = r_lo; r < r_hi; r++)
    bin_run(op, relu, ka == 0 ? a + (long)r * C : a, kb == 0 ? b + (long)r * C : b, o + (long)r * C, C);
}

INLINE void bin_op(const int op, int ka, int kb, int relu, const float *a, const float *b, float *o, int rows,
                   int C, int tid, int nthreads) {
  int lo, hi;
  share(rows, 1, tid, nthreads, &lo, &hi);
  if (ka == 0 && kb == 1) bin_rows(op, 0, 1, relu, a, b, o, C, lo, hi);
  else if (ka == 1 && kb == 0) bin_rows(op, 1, 0, relu, a, b, o, C, lo, hi);
  else if (ka == 0) bin_rows(op, 0, 0, relu, a, b, o, C, lo, hi);
  else bin_rows(op, 1, 1, relu, a, b, o, C, lo, hi);
}

EXPORT("binary_act")
void binary_act(const int32_t *args, int tid, int nthreads) {
  const float *a = (const float *)args[0];
  const float *b = (const float *)args[1];
  float *out = (float *)args[2];
  int rows = args[3], C = args[4], ka = args[5], kb = args[6], op = args[7], relu = args[8];
  switch (op) {
    case 0: bin_op(0, ka, kb, relu, a, b, out, rows, C, tid, nthreads); break;
    case 1: bin_op(1, ka, kb, relu, a, b, out, rows, C, tid, nthreads); break;
    case 2: bin_op(2, ka, kb, relu, a, b, out, rows, C, tid, nthreads); break;
    case 3: bin_op(3, ka, kb, relu, a, b, out, rows, C, tid, nthreads); break;
    default: bin_op(4, ka, 0, relu, a, a, out, rows, C, tid, nthreads); break;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Tile of 4-byte elements (tfjs Tile; also what broadcastTo and the batch-norm gradient run), */
/* on axes the caller merged to at most 4: x [d0, d1, d2, d3] repeated [r0, r1, r2, r3] times, */
/*   out[i0, i1, i2, i3] = x[i0 % d0, i1 % d1, i2 % d2, i3 % d3],  out [d0*r0, ..., d3*r3].     */
/* A broadcast ([1, C] to [P, C]) is P copies of one row of C; [N, 1] to [N, W] fills rows.   */
/* args: x, out (pointers), d0, d1, d2, d3, r0, r1, r2, r3. Threads split the output rows      */
/* (all axes but the last).                                                                     */
/* ------------------------------------------------------------------------------------------ */
INLINE void copy_run(const int32_t *src, int32_t *dst, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t v0 = wasm_v128_load(src + i), v1 = wasm_v128_load(src + i + 4);
    v128_t v2 = wasm_v128_load(src + i + 8), v3 = wasm_v128_load(src + i + 12);
    wasm_v128_store(dst + i, v0);
    wasm_v128_store(dst + i + 4, v1);
    wasm_v128_store(dst + i + 8, v2);
    wasm_v128_store(dst + i + 12, v3);
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

EXPORT("tile4")
void tile4(const int32_t *args, int tid, int nthreads) {
  const int32_t *x = (const int32_t *)args[0];
  int32_t *out = (int32_t *)args[1];
  int d0 = args[2], d1 = args[3], d2 = args[4], d3 = args[5];
  int r0 = args[6], r1 = args[7], r2 = args[8], r3 = args[9];
  int o1 = d1 * r1, o2 = d2 * r2, o3 = d3 * r3;
  int rows = d0 * r0 * o1 * o2;
  int lo, hi;
  share(rows, 16, tid, nthreads, &lo, &hi);
  if (lo >= hi) return;
  /* output row lo = (i0, i1, i2); j = i % d, kept as counters */
  int i2 = lo % o2, i1 = (lo / o2) % o1, i0 = lo / o2 / o1;
  int j2 = i2 % d2, j1 = i1 % d1, j0 = i0 % d0;
  int32_t *o = out + (long)lo * o3;
  for (int r = lo; r < hi; r++, o += o3) {
    const int32_t *src = x + (((long)j0 * d1 + j1) * d2 + j2) * d3;
    if (d3 == 1) {
      v128_t v = wasm_v128_load32_splat(src);
      int i = 0;
      for (; i + 4 <= o3; i += 4) wasm_v128_store(o + i, v);
      for (; i < o3; i++) o[i] = src[0];
    } else if (d3 >= 256) {
      for (int k = 0; k < r3; k++) __builtin_memcpy(o + (long)k * d3, src, (unsigned)d3 * 4u);
    } else {
      for (int k = 0; k < r3; k++) copy_run(src, o + (long)k * d3, d3);
    }
    if (++i2 == o2) {
      i2 = j2 = 0;
      if (++i1 == o1) {
        i1 = j1 = 0;
        i0++;
        if (++j0 == d0) j0 = 0;
      } else if (++j1 == d1) {
        j1 = 0;
      }
    } else if (++j2 == d2) {
      j2 = 0;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Batch normalization (tfjs FusedBatchNorm, channels last):                                   */
/*   out[p, c] = (x[p, c] - mean[c]) * k[c] + offset[c],  k[c] = scale[c] / sqrt(var[c] + eps) */
/* (k computed by the caller in float64).                                                      */
/* args: x, mean, k, offset (0: none), out (pointers), rows, C. Threads split the rows.        */
/* ------------------------------------------------------------------------------------------ */
EXPORT("batch_norm")
void batch_norm(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *mean = (const float *)args[1];
  const float *k = (const float *)args[2];
  const float *offset = (const float *)args[3];
  float *out = (float *)args[4];
  int rows = args[5], C = args[6];
  int lo, hi;
  share(rows, 1, tid, nthreads, &lo, &hi);
  const v128_t z = wasm_f32x4_splat(0);
  for (int r = lo; r < hi; r++) {
    const float *xr = x + (long)r * C;
    float *o = out + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c)), wasm_v128_load(k + c));
      wasm_v128_store(o + c, wasm_f32x4_add(v, offset ? wasm_v128_load(offset + c) : z));
    }
    for (; c < C; c++) o[c] = (xr[c] - mean[c]) * k[c] + (offset ? offset[c] : 0.0f);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Row gather (tfjs GatherV2 on axis 0, e.g. the batches model.fit slices out of its data):     */
/* out[i, :] = x[idx[i], :] for 4-byte elements; indices are checked by the caller.            */
/* args: x, idx, out (pointers), count, row (elements per row). Threads split the rows.        */
/* ------------------------------------------------------------------------------------------ */
EXPORT("gather_rows")
void gather_rows(const int32_t *args, int tid, int nthreads) {
  const int32_t *x = (const int32_t *)args[0];
  const int32_t *idx = (const int32_t *)args[1];
  int32_t *out = (int32_t *)args[2];
  int count = args[3], row = args[4];
  int lo, hi;
  share(count, 1, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++)
    __builtin_memcpy(out + (long)i * row, x + (long)idx[i] * row, (unsigned)row * 4u);
}

/* ------------------------------------------------------------------------------------------ */
/* Max pooling (forward), NHWC: out[n, oh, ow, c] = max over the window's in-range pixels.     */
/* Same rule as the tfjs cpu backend: NaN never wins (pmax keeps the running maximum when the  */
/* new value is NaN), a window of only padding gives -inf.                                     */
/* args: x, out (pointers), N, H, W, C, oH, oW, KH, KW, sH, sW, padTop, padLeft.               */
/* Threads split the output rows (n, oh).                                                      */
/* ------------------------------------------------------------------------------------------ */
EXPORT("max_pool")
void max_pool(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  float *out = (float *)args[1];
  int N = args[2], H = args[3], W = args[4], C = args[5], oH = args[6], oW = args[7];
  int KH = args[8], KW = args[9], sH = args[10], sW = args[11], pt = args[12], pl = args[13];
  int r_lo, r_hi;
  share(N * oH, 1, tid, nthreads, &r_lo, &r_hi);
  const v128_t neg_inf = wasm_f32x4_splat(-__builtin_inff());
  for (int r = r_lo; r < r_hi; r++) {
    int n = r / oH, oh = r - n * oH;
    int h0 = oh * sH - pt;
    int kh_lo = imax(0, -h0), kh_hi = imin(KH, H - h0);
    const float *xi = x + (long)n * H * W * C;
    float *o = out + (long)r * oW * C;
    for (int ow = 0; ow < oW; ow++, o += C) {
      int w0 = ow * sW - pl;
      int kw_lo = imax(0, -w0), kw_hi = imin(KW, W - w0);
      int c = 0;
      for (; c + 16 <= C; c += 16) {
        v128_t b0 = neg_inf, b1 = neg_inf, b2 = neg_inf, b3 = neg_inf;
        for (int kh = kh_lo; kh < kh_hi; kh++) {
          const float *p = xi + ((long)(h0 + kh) * W + w0) * C + c;
          for (int kw = kw_lo; kw < kw_hi; kw++) {
            const float *q = p + (long)kw * C;
            b0 = wasm_f32x4_pmax(b0, wasm_v128_load(q));
            b1 = wasm_f32x4_pmax(b1, wasm_v128_load(q + 4));
            b2 = wasm_f32x4_pmax(b2, wasm_v128_load(q + 8));
            b3 = wasm_f32x4_pmax(b3, wasm_v128_load(q + 12));
          }
        }
        wasm_v128_store(o + c, b0);
        wasm_v128_store(o + c + 4, b1);
        wasm_v128_store(o + c + 8, b2);
        wasm_v128_store(o + c + 12, b3);
      }
      for (; c + 4 <= C; c += 4) {
        v128_t b0 = neg_inf;
        for (int kh = kh_lo; kh < kh_hi; kh++)
          for (int kw = kw_lo; kw < kw_hi; kw++)
            b0 = wasm_f32x4_pmax(b0, wasm_v128_load(xi + ((long)(h0 + kh) * W + w0 + kw) * C + c));
        wasm_v128_store(o + c, b0);
      }
      for (; c < C; c++) {
        float b = -__builtin_inff();
        for (int kh = kh_lo; kh < kh_hi; kh++)
          for (int kw = kw_lo; kw < kw_hi; kw++) {
            float v = xi[((long)(h0 + kh) * W + w0 + kw) * C + c];
            if (v > b) b = v;
          }
        o[c] = b;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Convolution of a one-channel input (net2's conv1: 96x96x1 -> 32 channels, 3x3), with bias  */
/* and ReLU fused:                                                                              */
/*   out[n, oh, ow, co] = act(bias[co] + sum_{kh, kw} x[n, oh*sH + kh - pt, ow*sW + kw - pl] * */
/*                        w[kh, kw, 0, co])                                                    */
/* Pixels outside the input count as 0. With one input channel a GEMM has K = KH*KW only (9),  */
/* too short for XNNPACK's packed kernels to reach speed; here each output pixel is 4 x 4      */
/* channels held in registers while the taps stream: two pixels share every filter load.      */
/* args: x, w, bias (0: none), out (pointers), N, H, W, oH, oW, Cout, KH, KW, sH, sW, padTop,  */
/* padLeft, relu. Cout % 4 == 0. Threads split the output rows (n, oh).                        */
/* ------------------------------------------------------------------------------------------ */

/* NP (1 or 2) pixels x 4*NV channels from channel c. Filter rows outside the input are skipped; */
/* columns are checked one by one only when `edge` (interior pixels have every column in range).  */
INLINE void c1_pixels(const int np, const int nv, const float *xi, int H, int W, int h0, int w0, int w0b,
                      const float *w, int Cout, int KH, int KW, const float *bias, int c, int relu,
                      float *o, float *ob, int edge) {
  v128_t z = wasm_f32x4_splat(0);
  v128_t a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
  if (bias) {
    a0 = wasm_v128_load(bias + c);
    if (nv > 1) a1 = wasm_v128_load(bias + c + 4);
    if (nv > 2) a2 = wasm_v128_load(bias + c + 8);
    if (nv > 3) a3 = wasm_v128_load(bias + c + 12);
    b0 = a0, b1 = a1, b2 = a2, b3 = a3;
  }
  for (int kh = 0; kh < KH; kh++) {
    int h = h0 + kh;
    if (h < 0 || h >= H) continue;
    const float *xr = xi + (long)h * W;
    const float *wr = w + (long)kh * KW * Cout + c;
    for (int kw = 0; kw < KW; kw++, wr += Cout) {
      int wa = w0 + kw, wb = w0b + kw;
      int ina = !edge || (wa >= 0 && wa < W);
      int inb = np > 1 && (!edge || (wb >= 0 && wb < W));
      v128_t xa = ina ? wasm_v128_load32_splat(xr + wa) : z;
      v128_t xb = inb ? wasm_v128_load32_splat(xr + wb) : z;
      v128_t f0 = wasm_v128_load(wr);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(xa, f0));
      if (np > 1) b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(xb, f0));
      if (nv > 1) {
        v128_t f1 = wasm_v128_load(wr + 4);
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(xa, f1));
        if (np > 1) b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(xb, f1));
      }
      if (nv > 2) {
        v128_t f2 = wasm_v128_load(wr + 8);
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(xa, f2));
        if (np > 1) b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(xb, f2));
      }
      if (nv > 3) {
        v128_t f3 = wasm_v128_load(wr + 12);
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(xa, f3));
        if (np > 1) b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(xb, f3));
      }
    }
  }
  if (relu) {
    a0 = wasm_f32x4_max(a0, z), a1 = wasm_f32x4_max(a1, z), a2 = wasm_f32x4_max(a2, z), a3 = wasm_f32x4_max(a3, z);
    b0 = wasm_f32x4_max(b0, z), b1 = wasm_f32x4_max(b1, z), b2 = wasm_f32x4_max(b2, z), b3 = wasm_f32x4_max(b3, z);
  }
  wasm_v128_store(o + c, a0);
  if (nv > 1) wasm_v128_store(o + c + 4, a1);
  if (nv > 2) wasm_v128_store(o + c + 8, a2);
  if (nv > 3) wasm_v128_store(o + c + 12, a3);
  if (np > 1) {
    wasm_v128_store(ob + c, b0);
    if (nv > 1) wasm_v128_store(ob + c + 4, b1);
    if (nv > 2) wasm_v128_store(ob + c + 8, b2);
    if (nv > 3) wasm_v128_store(ob + c + 12, b3);
  }
}

INLINE void c1_channels(const int np, const float *xi, int H, int W, int h0, int w0, int w0b, const float *w,
                        int Cout, int KH, int KW, const float *bias, int relu, float *o, float *ob, int edge) {
  int c = 0;
  for (; c + 16 <= Cout; c += 16) c1_pixels(np, 4, xi, H, W, h0, w0, w0b, w, Cout, KH, KW, bias, c, relu, o, ob, edge);
  for (; c + 4 <= Cout; c += 4) c1_pixels(np, 1, xi, H, W, h0, w0, w0b, w, Cout, KH, KW, bias, c, relu, o, ob, edge);
}

EXPORT("conv2d_c1")
void conv2d_c1(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *w = (const float *)args[1];
  const float *bias = (const float *)args[2];
  float *out = (float *)args[3];
  int N = args[4], H = args[5], W = args[6], oH = args[7], oW = args[8], Cout = args[9];
  int KH = args[10], KW = args[11], sH = args[12], sW = args[13], pt = args[14], pl = args[15];
  int relu = args[16];
  int r_lo, r_hi;
  share(N * oH, 1, tid, nthreads, &r_lo, &r_hi);
  /* interior columns: every tap in range */
  int ow_a = imin(oW, (pl + sW - 1) / sW);
  int ow_b = W - KW + pl < 0 ? ow_a : imax(ow_a, imin(oW, (W - KW + pl) / sW + 1));
  for (int r = r_lo; r < r_hi; r++) {
    int n = r / oH, oh = r - n * oH;
    int h0 = oh * sH - pt;
    const float *xi = x + (long)n * H * W;
    float *o = out + (long)r * oW * Cout;
    int ow = 0;
    for (; ow < ow_a; ow++)
      c1_channels(1, xi, H, W, h0, ow * sW - pl, 0, w, Cout, KH, KW, bias, relu, o + (long)ow * Cout, 0, 1);
    for (; ow + 2 <= ow_b; ow += 2)
      c1_channels(2, xi, H, W, h0, ow * sW - pl, (ow + 1) * sW - pl, w, Cout, KH, KW, bias, relu,
                  o + (long)ow * Cout, o + (long)(ow + 1) * Cout, 0);
    for (; ow < ow_b; ow++)
      c1_channels(1, xi, H, W, h0, ow * sW - pl, 0, w, Cout, KH, KW, bias, relu, o + (long)ow * Cout, 0, 0);
    for (; ow < oW; ow++)
      c1_channels(1, xi, H, W, h0, ow * sW - pl, 0, w, Cout, KH, KW, bias, relu, o + (long)ow * Cout, 0, 1);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Convolution (forward) as an implicit GEMM, bias and ReLU fused:                             */
/*   out[p, co] = act(bias[co] + sum_m x[corner(p) + off(m)] * w[m, co])                      */
/* with p = (n, oh, ow), corner(p) = ((n*H + oh*sH)*W + ow*sW)*Cin, m = (kh, kw, ci) and       */
/* off(m) = (kh*W + kw)*Cin + ci (the filter [KH, KW, Cin, Cout] is already the [M, Cout]     */
/* matrix). x is already padded. 4-pixel x 8-channel tiles on dw_tile (the GEMM's): four      */
/* broadcast loads of x and two loads of a filter row per tap; the 8-column filter panel stays */
/* in L1 while a chunk of 64 pixels streams. No im2col copy, no packing.                       */
/* args: x, w, bias (0: none), out (pointers), N, H, W, Cin, oH, oW, Cout, sH, sW, KH, KW,     */
/* relu. Cout % 4 == 0. Threads split the output pixels (n, oh, ow) in units of 4.             */
/* ------------------------------------------------------------------------------------------ */
/* The tile of MR consecutive output pixels (outputs o, o + Cout, ...; x windows at x0 ... x3) x 4*NV
   channels: bias (or 0) stored, dw_tile adds each filter row kh's KW*Cin taps (contiguous in x, the
   filter rows strided by Cout), then ReLU. The extra passes over the tile stay in L1. */
INLINE void fwd_tile(const int mr, const int nv, const float *x0, const float *x1, const float *x2,
                     const float *x3, int KH, int KWC, int xrow, const float *w, int Cout,
                     const float *bias, int relu, float *o) {
  v128_t z = wasm_f32x4_splat(0);
  v128_t c0 = bias ? wasm_v128_load(bias) : z;
  v128_t c1 = bias && nv > 1 ? wasm_v128_load(bias + 4) : z;
  for (int i = 0; i < mr; i++) {
    wasm_v128_store(o + i * Cout, c0);
    if (nv > 1) wasm_v128_store(o + i * Cout + 4, c1);
  }
  int o1 = (int)(x1 - x0), o2 = (int)(x2 - x0), o3 = (int)(x3 - x0);
  for (int kh = 0; kh < KH; kh++)
    dw_tile(mr, nv, x0 + kh * xrow, 1, 0, o1, o2, o3, w + (long)kh * KWC * Cout, Cout, KWC, o, Cout);
  if (relu) {
    for (int i = 0; i < mr; i++) {
      float *q = o + i * Cout;
      wasm_v128_store(q, wasm_f32x4_max(wasm_v128_load(q), z));
      if (nv > 1) wasm_v128_store(q + 4, wasm_f32x4_max(wasm_v128_load(q + 4), z));
    }
  }
}

/* corner in x of output pixel p = (n, oh, ow)'s window */
INLINE const float *fwd_corner(const float *x, int p, int plane, int oW, int H, int W, int Cin, int sH, int sW) {
  int n = p / plane, q = p - n * plane, oh = q / oW, ow = q - oh * oW;
  return x + (((long)n * H + (long)oh * sH) * W + (long)ow * sW) * Cin;
}

/* Pixels [p0, p1) (any rows, any images) for channels [c, c + 4*nv): tiles of 4 pixels. */
INLINE void fwd_chunk(const int nv, const float *x, int p0, int p1, int plane, int oW, int H, int W, int Cin,
                      int sH, int sW, int KH, int KWC, const float *w, int Cout, const float *bias, int relu,
                      float *out, int c) {
  const float *wc = w + c, *bc = bias ? bias + c : 0;
  int xrow = W * Cin;
  int p = p0;
  for (; p + 4 <= p1; p += 4) {
    float *q = out + (long)p * Cout + c;
    fwd_tile(4, nv, fwd_corner(x, p, plane, oW, H, W, Cin, sH, sW), fwd_corner(x, p + 1, plane, oW, H, W, Cin, sH, sW),
             fwd_corner(x, p + 2, plane, oW, H, W, Cin, sH, sW), fwd_corner(x, p + 3, plane, oW, H, W, Cin, sH, sW),
             KH, KWC, xrow, wc, Cout, bc, relu, q);
  }
  if (p < p1) {
    const float *x0 = fwd_corner(x, p, plane, oW, H, W, Cin, sH, sW);
    const float *x1 = p + 1 < p1 ? fwd_corner(x, p + 1, plane, oW, H, W, Cin, sH, sW) : x0;
    const float *x2 = p + 2 < p1 ? fwd_corner(x, p + 2, plane, oW, H, W, Cin, sH, sW) : x0;
    float *q = out + (long)p * Cout + c;
    switch (p1 - p) {
      case 3: fwd_tile(3, nv, x0, x1, x2, x0, KH, KWC, xrow, wc, Cout, bc, relu, q); break;
      case 2: fwd_tile(2, nv, x0, x1, x0, x0, KH, KWC, xrow, wc, Cout, bc, relu, q); break;
      default: fwd_tile(1, nv, x0, x0, x0, x0, KH, KWC, xrow, wc, Cout, bc, relu, q); break;
    }
  }
}

EXPORT("conv2d_fwd")
void conv2d_fwd(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *w = (const float *)args[1];
  const float *bias = (const float *)args[2];
  float *out = (float *)args[3];
  int N = args[4], H = args[5], W = args[6], Cin = args[7], oH = args[8], oW = args[9], Cout = args[10];
  int sH = args[11], sW = args[12], KH = args[13], KW = args[14], relu = args[15];
  int KWC = KW * Cin, plane = oH * oW;
  int p_lo, p_hi;
  share(N * plane, 4, tid, nthreads, &p_lo, &p_hi);
  /* chunks of 64 pixels: their inputs stay in L2 while every 8-channel filter panel passes */
  for (int p0 = p_lo; p0 < p_hi; p0 += 64) {
    int p1 = imin(p_hi, p0 + 64);
    int c = 0;
    for (; c + 8 <= Cout; c += 8) fwd_chunk(2, x, p0, p1, plane, oW, H, W, Cin, sH, sW, KH, KWC, w, Cout, bias, relu, out, c);
    for (; c + 4 <= Cout; c += 4) fwd_chunk(1, x, p0, p1, plane, oW, H, W, Cin, sH, sW, KH, KWC, w, Cout, bias, relu, out, c);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Convolution (forward) with fewer than 4 output channels, bias and ReLU fused:               */
/*   out[p, co] = act(bias[co] + sum_{kh} sum_{j < KW*Cin} x[corner(p) + kh*W*Cin + j] *         */
/*                wt[co, kh, j])                                                               */
/* (corner as in conv2d_fwd; x already padded). Each filter row of a window is KW*Cin          */
/* contiguous values of x, so an output is KH dot products over the input channels: 4 pixels   */
/* at a time share every filter load. The input gradient of a one-channel first layer is such */
/* a convolution (16 or 32 channels into 1) and went to XNNPACK at ~5x the time of conv1.      */
/* args: x, wt ([Cout, KH, KW, Cin]: the filter transposed by the caller), bias (0: none), out */
/* (pointers), N, H, W, Cin, oH, oW, Cout, sH, sW, KH, KW, relu. Threads split the output      */
/* pixels in units of 4.                                                                        */
/* ------------------------------------------------------------------------------------------ */
INLINE float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

EXPORT("conv2d_dot")
void conv2d_dot(const int32_t *args, int tid, int nthreads) {
  const float *x = (const float *)args[0];
  const float *wt = (const float *)args[1];
  const float *bias = (const float *)args[2];
  float *out = (float *)args[3];
  int N = args[4], H = args[5], W = args[6], Cin = args[7], oH = args[8], oW = args[9], Cout = args[10];
  int sH = args[11], sW = args[12], KH = args[13], KW = args[14], relu = args[15];
  int KWC = KW * Cin, xrow = W * Cin, plane = oH * oW;
  int p_lo, p_hi;
  share(N * plane, 4, tid, nthreads, &p_lo, &p_hi);
  for (int p = p_lo; p < p_hi; p += 4) {
    int np = imin(4, p_hi - p);
    const float *x0 = fwd_corner(x, p, plane, oW, H, W, Cin, sH, sW);
    const float *x1 = np > 1 ? fwd_corner(x, p + 1, plane, oW, H, W, Cin, sH, sW) : x0;
    const float *x2 = np > 2 ? fwd_corner(x, p + 2, plane, oW, H, W, Cin, sH, sW) : x0;
    const float *x3 = np > 3 ? fwd_corner(x, p + 3, plane, oW, H, W, Cin, sH, sW) : x0;
    for (int co = 0; co < Cout; co++) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (int kh = 0; kh < KH; kh++) {
        const float *w = wt + ((long)co * KH + kh) * KWC;
        const float *r0 = x0 + (long)kh * xrow, *r1 = x1 + (long)kh * xrow;
        const float *r2 = x2 + (long)kh * xrow, *r3 = x3 + (long)kh * xrow;
        int j = 0;
        for (; j + 4 <= KWC; j += 4) {
          v128_t f = wasm_v128_load(w + j);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(r0 + j), f));
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(r1 + j), f));
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(r2 + j), f));
          a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(r3 + j), f));
        }
        for (; j < KWC; j++) t0 += r0[j] * w[j], t1 += r1[j] * w[j], t2 += r2[j] * w[j], t3 += r3[j] * w[j];
      }
      float b = bias ? bias[co] : 0.0f;
      float v0 = b + (hsum(a0) + t0), v1 = b + (hsum(a1) + t1), v2 = b + (hsum(a2) + t2), v3 = b + (hsum(a3) + t3);
      if (relu) v0 = v0 < 0 ? 0 : v0, v1 = v1 < 0 ? 0 : v1, v2 = v2 < 0 ? 0 : v2, v3 = v3 < 0 ? 0 : v3;
      float *o = out + (long)p * Cout + co;
      o[0] = v0;
      if (np > 1) o[Cout] = v1;
      if (np > 2) o[2 * Cout] = v2;
      if (np > 3) o[3 * Cout] = v3;
    }
  }
}
