/**
 * Image-based estimators for checking a landmark annotation's pixel convention without trusting any annotation:
 *
 * - {@link symmetryAxis}: the mirror-symmetry axis of a face, found from the pixels (the line about which the
 *   image best matches its own reflection), sub-pixel;
 * - {@link darkCentroid} and {@link gradientEyeCentre}: an eye's centre from the pixels, as the iterated centroid
 *   of darkness (pupil and iris) and as the point most gradients point away from (Timm & Barth 2011);
 * - {@link clusteredMean} and {@link clusteredFit}: a mean and a straight-line fit with standard errors that treat
 *   the faces of one identity (frames of one video) as one cluster.
 *
 * Coordinates are the **pixel-centre** convention throughout: pixel `(i, j)` (column `i`, row `j`, 0-based) is
 * centred at `(i, j)` and covers `[i − 0.5, i + 0.5] × [j − 0.5, j + 0.5]`. An annotation in the same convention
 * has no offset against these estimators (up to anatomy); a 1-based one sits `+1` px right and down; an
 * edge-convention one (pixel `i` centred at `i + 0.5`) `+0.5` px right and down.
 *
 * Used by `annotation-check.ts` (`npx nx run bench:annotation-convention`).
 */

/** A grayscale image, row-major, any value range. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A grayscale image from 8-bit pixels with `channels` bytes per pixel (the first channel is used). */
export function grayImage(pixels: ArrayLike<number>, width: number, height: number, channels = 1): GrayImage {
  if (pixels.length < width * height * channels) throw new RangeError(`expected ${width * height * channels} values, got ${pixels.length}`);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = pixels[i * channels];
  return { width, height, data };
}

/** Bilinear sample at `(x, y)` (pixel-centre convention), coordinates clamped to the image. */
export function bilinear(img: GrayImage, x: number, y: number): number {
  const { width: w, height: h, data } = img;
  const cx = Math.min(w - 1, Math.max(0, x));
  const cy = Math.min(h - 1, Math.max(0, y));
  const x0 = Math.min(w - 2, Math.floor(cx));
  const y0 = Math.min(h - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = y0 * w + x0;
  const top = data[i] + fx * (data[i + 1] - data[i]);
  const bottom = data[i + w] + fx * (data[i + w + 1] - data[i + w]);
  return top + fy * (bottom - top);
}

/** Separable Gaussian blur (edges clamped). `sigma ≤ 0` returns a copy. Symmetric, so it moves no feature. */
export function gaussianBlur(img: GrayImage, sigma: number): GrayImage {
  const { width: w, height: h } = img;
  if (!(sigma > 0)) return { width: w, height: h, data: Float32Array.from(img.data) };
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let i = -r; i <= r; i++) v += k[i + r] * img.data[y * w + Math.min(w - 1, Math.max(0, x + i))];
      tmp[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let i = -r; i <= r; i++) v += k[i + r] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
      out[y * w + x] = v;
    }
  }
  return { width: w, height: h, data: out };
}

/** Band-pass (difference of Gaussians): fine detail kept, slow lighting gradients across the face removed. */
export function bandPass(img: GrayImage, sigmaFine: number, sigmaCoarse: number): GrayImage {
  const fine = gaussianBlur(img, sigmaFine);
  const coarse = gaussianBlur(img, sigmaCoarse);
  const data = new Float32Array(fine.data.length);
  for (let i = 0; i < data.length; i++) data[i] = fine.data[i] - coarse.data[i];
  return { width: img.width, height: img.height, data };
}

/** Where to look for a face's symmetry axis, see {@link symmetryAxis}. */
export interface SymmetryOptions {
  /** A point near the axis (e.g. the middle of the face), pixels. */
  readonly centre: readonly [number, number];
  /**
   * Roll of the face, radians: the angle of the eye line from the image x axis (`atan2(dy, dx)`, + = clockwise
   * on screen, y down). The axis is perpendicular to it. Default 0 (vertical axis).
   */
  readonly angle?: number;
  /** Compare pixels up to this distance from the axis (triangular weight, 0 at this distance), pixels. */
  readonly halfWidth: number;
  /** Compare rows up to this distance along the axis from `centre`, pixels. */
  readonly halfHeight: number;
  /** Search the axis within ± this distance of `centre` across the axis, pixels. */
  readonly search: number;
}

/** Result of {@link symmetryAxis}. */
export interface SymmetryAxis {
  /** Signed distance of the axis from `centre` along the axis normal `(cos angle, sin angle)`, pixels. */
  readonly offset: number;
  /** The axis point nearest `centre`. */
  readonly x: number;
  readonly y: number;
  /** Unit normal of the axis (`+` = towards image right for a small angle). */
  readonly normal: readonly [number, number];
  /** Weighted mean squared difference between the image and its reflection at the optimum. */
  readonly cost: number;
  /** The same at the search's ends (mean of both): `cost / edgeCost` near 1 means no clear symmetry. */
  readonly edgeCost: number;
}

/**
 * The mirror-symmetry axis of the image near `centre`: the line (perpendicular to the eye line `angle`) about
 * which the image best matches its reflection, to a fraction of a pixel.
 *
 * Cost of a candidate axis at signed offset `s` (along the normal `n`): over every pixel `p` of the region
 * (`|(p − centre)·u| ≤ halfHeight` along the axis direction `u`) at distance `t = (p − centre)·n − s` from the
 * axis with `|t| < halfWidth`, the squared difference between `I(p)` and the bilinear sample of `I` at its
 * reflection `p − 2t·n`, weighted `1 − |t| / halfWidth` (so pixels enter and leave the region smoothly as the
 * axis moves) and normalised by the weights. Both sides are compared with each other, so the interpolation
 * smooths them alike. `s` is scanned in 0.5 px steps over `± search`, refined in 0.05 px steps around the best,
 * and the last step is a parabola through the best three fine samples. Filter the image first (e.g.
 * {@link bandPass}) to keep lighting out of it.
 *
 * @returns `undefined` when the best coarse candidate is at the end of the search range (no interior minimum).
 */
export function symmetryAxis(img: GrayImage, options: SymmetryOptions): SymmetryAxis | undefined {
  const { halfWidth, halfHeight, search } = options;
  const [cx, cy] = options.centre;
  const angle = options.angle ?? 0;
  const nx = Math.cos(angle);
  const ny = Math.sin(angle);
  // Axis direction u = (−ny, nx).
  const reach = halfWidth + search + 1;
  const extent = Math.ceil(Math.hypot(reach, halfHeight)) + 1;
  const xs: number[] = [];
  const ys: number[] = [];
  const ds: number[] = [];
  const vs: number[] = [];
  for (let y = Math.max(0, Math.floor(cy - extent)); y <= Math.min(img.height - 1, Math.ceil(cy + extent)); y++) {
    for (let x = Math.max(0, Math.floor(cx - extent)); x <= Math.min(img.width - 1, Math.ceil(cx + extent)); x++) {
      const dx = x - cx;
      const dy = y - cy;
      const along = -ny * dx + nx * dy;
      const across = nx * dx + ny * dy;
      if (Math.abs(along) > halfHeight || Math.abs(across) > reach) continue;
      xs.push(x);
      ys.push(y);
      ds.push(across);
      vs.push(img.data[y * img.width + x]);
    }
  }
  const cost = (s: number): number => {
    let sum = 0;
    let weights = 0;
    for (let i = 0; i < ds.length; i++) {
      const t = ds[i] - s;
      const a = Math.abs(t);
      if (a >= halfWidth) continue;
      const w = 1 - a / halfWidth;
      const diff = vs[i] - bilinear(img, xs[i] - 2 * t * nx, ys[i] - 2 * t * ny);
      sum += w * diff * diff;
      weights += w;
    }
    return weights > 0 ? sum / weights : Infinity;
  };
  const coarseStep = 0.5;
  const steps = Math.max(1, Math.round(search / coarseStep));
  let best = 0;
  let bestCost = Infinity;
  const coarse: number[] = [];
  for (let k = -steps; k <= steps; k++) {
    const c = cost(k * coarseStep);
    coarse.push(c);
    if (c < bestCost) {
      bestCost = c;
      best = k;
    }
  }
  if (best === -steps || best === steps) return undefined;
  const fineStep = 0.05;
  const centreS = best * coarseStep;
  const fineN = Math.round(coarseStep / fineStep);
  const fine: number[] = [];
  let fb = 0;
  for (let k = -fineN; k <= fineN; k++) {
    const c = cost(centreS + k * fineStep);
    fine.push(c);
    if (c < fine[fb]) fb = fine.length - 1;
  }
  let s = centreS + (fb - fineN) * fineStep;
  if (fb > 0 && fb < fine.length - 1) s += fineStep * parabolaVertex(fine[fb - 1], fine[fb], fine[fb + 1]);
  return {
    offset: s,
    x: cx + s * nx,
    y: cy + s * ny,
    normal: [nx, ny],
    cost: cost(s),
    edgeCost: (coarse[0] + coarse[coarse.length - 1]) / 2,
  };
}

/** Signed distance of point `(x, y)` from the axis, along its normal (`+` = image right for a small roll). */
export function distanceFromAxis(axis: SymmetryAxis, x: number, y: number): number {
  return (x - axis.x) * axis.normal[0] + (y - axis.y) * axis.normal[1];
}

/** Vertex of the parabola through `(−1, a), (0, b), (1, c)`, as an offset in `[−1, 1]` from the middle sample. */
export function parabolaVertex(a: number, b: number, c: number): number {
  const d = a - 2 * b + c;
  if (!(d > 0)) return 0;
  return Math.max(-1, Math.min(1, (a - c) / (2 * d)));
}

/** Result of an eye-centre estimator. */
export interface EyeCentre {
  readonly x: number;
  readonly y: number;
  /** Iterations (darkCentroid) or candidate centres scored (gradientEyeCentre). */
  readonly steps: number;
}

/**
 * An eye's centre as the iterated centroid of darkness (mean shift): within the disc of `radius` around the
 * current estimate, each pixel weighs `max(0, m − I)`, with `m` the disc's mean intensity (so the pupil and
 * iris, darker than the sclera and lids, dominate); the estimate moves to the weighted centroid until it moves
 * less than 0.005 px. The disc follows the estimate, so the result does not lean towards `start`.
 *
 * @returns `undefined` when it leaves the image or the disc has no contrast.
 */
export function darkCentroid(img: GrayImage, start: readonly [number, number], radius: number, maxIterations = 50): EyeCentre | undefined {
  let [x, y] = start;
  const r2 = radius * radius;
  for (let it = 1; it <= maxIterations; it++) {
    const x0 = Math.ceil(x - radius);
    const x1 = Math.floor(x + radius);
    const y0 = Math.ceil(y - radius);
    const y1 = Math.floor(y + radius);
    if (x0 < 0 || y0 < 0 || x1 >= img.width || y1 >= img.height) return undefined;
    let sum = 0;
    let n = 0;
    for (let j = y0; j <= y1; j++) {
      for (let i = x0; i <= x1; i++) {
        if ((i - x) ** 2 + (j - y) ** 2 > r2) continue;
        sum += img.data[j * img.width + i];
        n++;
      }
    }
    const m = sum / n;
    let w = 0;
    let sx = 0;
    let sy = 0;
    for (let j = y0; j <= y1; j++) {
      for (let i = x0; i <= x1; i++) {
        if ((i - x) ** 2 + (j - y) ** 2 > r2) continue;
        const d = m - img.data[j * img.width + i];
        if (d <= 0) continue;
        w += d;
        sx += d * i;
        sy += d * j;
      }
    }
    if (!(w > 0)) return undefined;
    const nx = sx / w;
    const ny = sy / w;
    const moved = Math.hypot(nx - x, ny - y);
    x = nx;
    y = ny;
    if (moved < 0.005) return { x, y, steps: it };
  }
  return { x, y, steps: maxIterations };
}

/**
 * An eye's centre by Timm & Barth (2011), "Accurate eye centre localisation by means of gradients": the
 * candidate `c` maximising `I_dark(c) · mean_i max(0, d̂_i · ĝ_i)²` over the strong gradients `g_i` (magnitude
 * above mean + 0.3 std) within `2 × radius`, with `d̂_i` the unit vector from `c` to pixel `i` (the iris is a
 * dark disc: its edge gradients point away from its centre). Candidates are the pixels within `radius` of
 * `start`; the best one is refined to sub-pixel by a parabola through its neighbours, separately in x and y.
 * Gradients are central differences (no half-pixel shift). Pass a lightly smoothed image.
 *
 * @returns `undefined` near the image border or when the best candidate is on the edge of the search disc.
 */
export function gradientEyeCentre(img: GrayImage, start: readonly [number, number], radius: number): EyeCentre | undefined {
  const { width: w, height: h, data } = img;
  const [sx, sy] = start;
  const reach = 2 * radius;
  const x0 = Math.ceil(sx - reach);
  const x1 = Math.floor(sx + reach);
  const y0 = Math.ceil(sy - reach);
  const y1 = Math.floor(sy + reach);
  if (x0 < 1 || y0 < 1 || x1 > w - 2 || y1 > h - 2) return undefined;
  const gx: number[] = [];
  const gy: number[] = [];
  const px: number[] = [];
  const py: number[] = [];
  const mags: number[] = [];
  let min = Infinity;
  let max = -Infinity;
  for (let j = y0; j <= y1; j++) {
    for (let i = x0; i <= x1; i++) {
      if ((i - sx) ** 2 + (j - sy) ** 2 > reach * reach) continue;
      const v = data[j * w + i];
      if (v < min) min = v;
      if (v > max) max = v;
      const a = (data[j * w + i + 1] - data[j * w + i - 1]) / 2;
      const b = (data[(j + 1) * w + i] - data[(j - 1) * w + i]) / 2;
      gx.push(a);
      gy.push(b);
      px.push(i);
      py.push(j);
      mags.push(Math.hypot(a, b));
    }
  }
  const mean = mags.reduce((s, v) => s + v, 0) / mags.length;
  const std = Math.sqrt(mags.reduce((s, v) => s + (v - mean) ** 2, 0) / mags.length);
  const threshold = mean + 0.3 * std;
  const keep: number[] = [];
  for (let k = 0; k < mags.length; k++) if (mags[k] > threshold && mags[k] > 0) keep.push(k);
  if (keep.length === 0 || !(max > min)) return undefined;
  const objective = (cx: number, cy: number): number => {
    let s = 0;
    for (const k of keep) {
      const dx = px[k] - cx;
      const dy = py[k] - cy;
      const dn = Math.hypot(dx, dy);
      if (dn === 0) continue;
      const dot = (dx * gx[k] + dy * gy[k]) / (dn * mags[k]);
      if (dot > 0) s += dot * dot;
    }
    // Darkness prior: the smoothed intensity at the candidate, inverted and scaled to [0, 1].
    const dark = (max - bilinear(img, cx, cy)) / (max - min);
    return (dark * s) / keep.length;
  };
  const r = Math.floor(radius);
  let best = -Infinity;
  let bi = 0;
  let bj = 0;
  let scored = 0;
  const cache = new Map<number, number>();
  const at = (i: number, j: number): number => {
    const key = j * w + i;
    let v = cache.get(key);
    if (v === undefined) {
      v = objective(i, j);
      cache.set(key, v);
      scored++;
    }
    return v;
  };
  const ci = Math.round(sx);
  const cj = Math.round(sy);
  for (let j = cj - r; j <= cj + r; j++) {
    for (let i = ci - r; i <= ci + r; i++) {
      if ((i - sx) ** 2 + (j - sy) ** 2 > radius * radius) continue;
      const v = at(i, j);
      if (v > best) {
        best = v;
        bi = i;
        bj = j;
      }
    }
  }
  if ((bi - sx) ** 2 + (bj - sy) ** 2 > (radius - 1) ** 2) return undefined;
  // Maximum: parabola on the negated objective.
  const ddx = parabolaVertex(-at(bi - 1, bj), -best, -at(bi + 1, bj));
  const ddy = parabolaVertex(-at(bi, bj - 1), -best, -at(bi, bj + 1));
  return { x: bi + ddx, y: bj + ddy, steps: scored };
}

/** A mean with a standard error that counts each cluster (identity) once, see {@link clusteredMean}. */
export interface ClusteredMean {
  /** Mean over clusters of the cluster means. */
  readonly mean: number;
  /** Standard error of `mean` (standard deviation of the cluster means ÷ √clusters). */
  readonly se: number;
  /** Values used (finite). */
  readonly n: number;
  /** Clusters. */
  readonly clusters: number;
}

/**
 * Mean of `values` with frames of one cluster (e.g. one identity: frames of one video, strongly correlated)
 * averaged first, so each cluster counts once and the standard error is honest. Non-finite values are skipped.
 */
export function clusteredMean(values: readonly number[], clusters: readonly string[]): ClusteredMean {
  const groups = new Map<string, { sum: number; n: number }>();
  let n = 0;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const g = groups.get(clusters[i]) ?? { sum: 0, n: 0 };
    g.sum += v;
    g.n++;
    groups.set(clusters[i], g);
    n++;
  });
  const means = [...groups.values()].map((g) => g.sum / g.n);
  const k = means.length;
  const mean = means.reduce((s, v) => s + v, 0) / k;
  const sd = k > 1 ? Math.sqrt(means.reduce((s, v) => s + (v - mean) ** 2, 0) / (k - 1)) : NaN;
  return { mean, se: sd / Math.sqrt(k), n, clusters: k };
}

/** Straight-line fit `y = intercept + slope × x`, see {@link clusteredFit}. */
export interface ClusteredFit {
  readonly intercept: number;
  readonly interceptSe: number;
  readonly slope: number;
  readonly slopeSe: number;
  readonly n: number;
  readonly clusters: number;
}

/**
 * Ordinary least squares `y = intercept + slope × x` with cluster-robust (sandwich, CR1) standard errors:
 * residuals of one cluster are allowed to be correlated. Non-finite pairs are skipped.
 */
export function clusteredFit(x: readonly number[], y: readonly number[], clusters: readonly string[]): ClusteredFit {
  const idx: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]) && Number.isFinite(y[i])) idx.push(i);
  const n = idx.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const i of idx) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const det = n * sxx - sx * sx;
  const slope = (n * sxy - sx * sy) / det;
  const intercept = (sy - slope * sx) / n;
  // (X'X)^-1 = [[sxx, −sx], [−sx, n]] / det
  const inv = [
    [sxx / det, -sx / det],
    [-sx / det, n / det],
  ];
  const scores = new Map<string, [number, number]>();
  for (const i of idx) {
    const e = y[i] - intercept - slope * x[i];
    const s = scores.get(clusters[i]) ?? [0, 0];
    s[0] += e;
    s[1] += e * x[i];
    scores.set(clusters[i], s);
  }
  const meat = [
    [0, 0],
    [0, 0],
  ];
  for (const [a, b] of scores.values()) {
    meat[0][0] += a * a;
    meat[0][1] += a * b;
    meat[1][0] += a * b;
    meat[1][1] += b * b;
  }
  const g = scores.size;
  const c = g > 1 ? (g / (g - 1)) * ((n - 1) / (n - 2)) : NaN;
  const v = [
    [0, 0],
    [0, 0],
  ];
  for (let r = 0; r < 2; r++) {
    for (let s = 0; s < 2; s++) {
      let acc = 0;
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) acc += inv[r][a] * meat[a][b] * inv[b][s];
      v[r][s] = c * acc;
    }
  }
  return { intercept, interceptSe: Math.sqrt(v[0][0]), slope, slopeSe: Math.sqrt(v[1][1]), n, clusters: g };
}
