import { ConfigError, IMAGE_PIXELS, IMAGE_SIZE, KEYPOINT_CENTER, KEYPOINT_SCALE } from '@keypoints/core';
import type { KeypointSet, SeededRandom } from '@keypoints/core';
import type { Augmentation, MutableBatch } from '../augmentation.js';
import { keypointColumns } from './keypoint-columns.js';

/**
 * One similarity transform of a 96 × 96 face, in pixels, about the image centre `(47.5, 47.5)`
 * (pixel `c` centred on `c`, the converter's convention, see `FlipConvention`). A point `p` moves to
 * `q = centre + scale · R(rotationDeg) · (p − centre) + (dx, dy)`.
 */
export interface AffineParams {
  /** Horizontal shift in pixels (+ = right). */
  readonly dx: number;
  /** Vertical shift in pixels (+ = down). */
  readonly dy: number;
  /** Rotation in degrees about the image centre; + = clockwise on screen (the y axis points down). */
  readonly rotationDeg: number;
  /** Scale factor about the image centre (1 = unchanged, 1.1 = zoom in by 10 %); > 0. */
  readonly scale: number;
}

/** How image pixels that come from outside the source frame are filled. */
export type AffineFill = 'edge' | 'zero';

/** What happens to a keypoint that the transform moves out of the frame. */
export type AffineOutside = 'mask' | 'keep';

/** Options of {@link AffineAugmentation}. Every range is symmetric and drawn uniformly. */
export interface AffineAugmentationOptions {
  /** Largest shift in pixels: `dx`, `dy` are drawn independently from `[−maxShiftPx, maxShiftPx)`. ≥ 0. Default 3. */
  readonly maxShiftPx?: number;
  /** Largest rotation in degrees: drawn from `[−maxRotationDeg, maxRotationDeg)`. In [0, 180]. Default 10. */
  readonly maxRotationDeg?: number;
  /** Largest relative scale change: `scale` is drawn from `[1 − maxScale, 1 + maxScale)`. In [0, 1). Default 0.05 (±5 %). */
  readonly maxScale?: number;
  /** Chance that a sample is transformed at all (one independent draw per sample), in [0, 1]. Default 1. */
  readonly probability?: number;
  /**
   * Fill of pixels whose source lies outside the image. `'edge'` (default): the nearest edge pixel is
   * repeated, as the landmark converter does for crops that leave their photo, so no black wedges the
   * net could key on; `'zero'`: black (0).
   */
  readonly fill?: AffineFill;
  /**
   * A present keypoint moved outside the frame `[−0.5, 95.5]²` (pixel edges) is `'mask'`ed (default:
   * its x and y targets become 0 with mask 0 — the image no longer shows it, and a clamped label would be
   * wrong) or `'keep'`t (target outside [−1, 1]).
   */
  readonly outside?: AffineOutside;
}

/** Image centre in pixels under the pixel-centre convention (pixel `c` centred on `c`): 47.5. */
const CENTRE = (IMAGE_SIZE - 1) / 2;
const LAST = IMAGE_SIZE - 1;
/** Keypoints beyond these pixel coordinates lie outside the image (its outer pixel edges). */
const FRAME_MIN = -0.5;
const FRAME_MAX = IMAGE_SIZE - 0.5;

/**
 * Random small shifts, rotations and scalings of training faces (a second augmentation besides the
 * flip; not in Nouri 2014). Each transformed sample gets its own {@link AffineParams}, drawn from the
 * epoch's `rng` in the order `dx`, `dy`, `rotationDeg`, `scale` after one `probability` draw (5 draws per
 * sample, always, so the stream does not depend on the outcome). The image `[96, 96, 1]` is resampled
 * bilinearly (inverse mapping: each output pixel reads the source at the inverse-transformed point; `fill`
 * for points outside), and the keypoints are moved by the same forward transform in pixel space:
 * normalized `v` → pixels `48·v + 48` → transform → back. Masked targets stay 0 with mask 0; keypoints
 * leaving the frame follow `outside`.
 *
 * Chain it after {@link FlipAugmentation} (`augmentations: [flip, affine]`): both keep the keypoints on
 * their features, so any order works. Bilinear resampling smooths the image slightly (any non-integer
 * shift or any rotation/scale); the identity transform returns the sample unchanged, bit for bit.
 *
 * @example
 * ```ts
 * import { AffineAugmentation, BatchIterator, FlipAugmentation } from '@keypoints/data';
 * const augmentations = [new FlipAugmentation(), new AffineAugmentation({ maxShiftPx: 3, maxRotationDeg: 10, maxScale: 0.05 })];
 * const batches = new BatchIterator(train, { batchSize: 128, augmentations });
 * ```
 */
export class AffineAugmentation implements Augmentation {
  /** `'affine'`. */
  readonly name = 'affine';
  /** Largest |dx|, |dy| in pixels. */
  readonly maxShiftPx: number;
  /** Largest |rotation| in degrees. */
  readonly maxRotationDeg: number;
  /** Largest |scale − 1|. */
  readonly maxScale: number;
  /** Chance that a sample is transformed. */
  readonly probability: number;
  /** Fill outside the source image. */
  readonly fill: AffineFill;
  /** Policy for keypoints that leave the frame. */
  readonly outside: AffineOutside;

  /**
   * @param options see {@link AffineAugmentationOptions}; defaults: ±3 px, ±10°, ±5 %, every sample,
   *   edge fill, out-of-frame keypoints masked.
   * @throws {ConfigError} when a range is negative, not finite, or too large (`maxRotationDeg` > 180,
   *   `maxScale` ≥ 1, `maxShiftPx` > 96), `probability` is outside [0, 1], or `fill` / `outside` is unknown.
   */
  constructor(options: AffineAugmentationOptions = {}) {
    const {
      maxShiftPx = 3,
      maxRotationDeg = 10,
      maxScale = 0.05,
      probability = 1,
      fill = 'edge',
      outside = 'mask',
    } = options;
    inRange('maxShiftPx', maxShiftPx, 0, IMAGE_SIZE, true);
    inRange('maxRotationDeg', maxRotationDeg, 0, 180, true);
    inRange('maxScale', maxScale, 0, 1, false);
    inRange('probability', probability, 0, 1, true);
    if (fill !== 'edge' && fill !== 'zero') {
      throw new ConfigError(`AffineAugmentation: fill must be 'edge' or 'zero', got ${JSON.stringify(fill)}`);
    }
    if (outside !== 'mask' && outside !== 'keep') {
      throw new ConfigError(`AffineAugmentation: outside must be 'mask' or 'keep', got ${JSON.stringify(outside)}`);
    }
    this.maxShiftPx = maxShiftPx;
    this.maxRotationDeg = maxRotationDeg;
    this.maxScale = maxScale;
    this.probability = probability;
    this.fill = fill;
    this.outside = outside;
  }

  /**
   * Transform the samples of `batch` in place, each with its own random parameters (see the class).
   * @param batch images `[size, 96, 96, 1]` float32 in [0, 1], targets and mask `[size, K]`.
   * @param rng the epoch's seeded generator (5 draws per sample).
   * @param keypointSet the columns of targets/mask.
   * @throws {ConfigError} when the keypoint set's columns are not `…_x`/`…_y` pairs.
   */
  apply(batch: MutableBatch, rng: SeededRandom, keypointSet: KeypointSet): void {
    const scratch = new Float32Array(IMAGE_PIXELS);
    for (let i = 0; i < batch.size; i++) {
      const go = rng.next() < this.probability;
      const params: AffineParams = {
        dx: rng.uniform(-this.maxShiftPx, this.maxShiftPx),
        dy: rng.uniform(-this.maxShiftPx, this.maxShiftPx),
        rotationDeg: rng.uniform(-this.maxRotationDeg, this.maxRotationDeg),
        scale: rng.uniform(1 - this.maxScale, 1 + this.maxScale),
      };
      if (go) affineTransformSample(batch, i, params, keypointSet, { fill: this.fill, outside: this.outside }, scratch);
    }
  }
}

/**
 * Apply one known similarity transform to sample `index` of a batch, in place (the work of
 * {@link AffineAugmentation}, for given parameters).
 *
 * - Image `[96, 96, 1]`: output pixel `q` (integer coordinates) takes the bilinear interpolation of the
 *   source at `p = centre + R(−θ) · (q − centre − d) / scale`, with `fill` outside `[0, 95]²`.
 * - Keypoints: each present `(x, y)` (normalized) → pixels → `centre + scale · R(θ) · (p − centre) + d` →
 *   normalized; then `outside` decides about points beyond `[−0.5, 95.5]²`.
 * - An identity transform (`dx = dy = rotationDeg = 0`, `scale = 1`) changes nothing.
 *
 * @param batch images `[size, 96, 96, 1]`, targets and mask `[size, K]` normalized / 0–1.
 * @param index the sample, in `[0, batch.size)`.
 * @param params the transform, see {@link AffineParams}.
 * @param keypointSet the columns of targets/mask.
 * @param options `fill` (default `'edge'`), `outside` (default `'mask'`).
 * @param scratch optional `[9216]` work array, to avoid one allocation per call.
 * @throws {RangeError} when `index` is outside the batch or `params` are not finite (or `scale` ≤ 0).
 * @throws {ConfigError} when the keypoint set's columns are not `…_x`/`…_y` pairs.
 */
export function affineTransformSample(
  batch: MutableBatch,
  index: number,
  params: AffineParams,
  keypointSet: KeypointSet,
  options: { readonly fill?: AffineFill; readonly outside?: AffineOutside } = {},
  scratch: Float32Array = new Float32Array(IMAGE_PIXELS),
): void {
  const { fill = 'edge', outside = 'mask' } = options;
  if (!(Number.isInteger(index) && index >= 0 && index < batch.size)) {
    throw new RangeError(`affineTransformSample: sample index ${index} is outside the batch of ${batch.size}`);
  }
  const { dx, dy, rotationDeg, scale } = params;
  if (![dx, dy, rotationDeg, scale].every(Number.isFinite) || !(scale > 0)) {
    throw new RangeError(`affineTransformSample: parameters must be finite with scale > 0, got ${JSON.stringify(params)}`);
  }
  if (dx === 0 && dy === 0 && rotationDeg === 0 && scale === 1) return;
  const { points } = keypointColumns(keypointSet);
  const theta = (rotationDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);

  // Image: inverse mapping q → p = C + R(−θ)(q − C − d) / s.
  const offset = index * IMAGE_PIXELS;
  const image = batch.images.subarray(offset, offset + IMAGE_PIXELS);
  scratch.set(image);
  const edge = fill === 'edge';
  for (let qy = 0; qy < IMAGE_SIZE; qy++) {
    for (let qx = 0; qx < IMAGE_SIZE; qx++) {
      const ux = qx - CENTRE - dx;
      const uy = qy - CENTRE - dy;
      const px = CENTRE + (cos * ux + sin * uy) / scale;
      const py = CENTRE + (-sin * ux + cos * uy) / scale;
      image[qy * IMAGE_SIZE + qx] = bilinear(scratch, px, py, edge);
    }
  }

  // Keypoints: forward mapping p → q = C + s R(θ)(p − C) + d, in pixels.
  const k = keypointSet.columns.length;
  const t = index * k;
  const { targets, mask } = batch;
  for (const [jx, jy] of points) {
    if (mask[t + jx] === 0 || mask[t + jy] === 0) continue;
    const ux = targets[t + jx] * KEYPOINT_SCALE + KEYPOINT_CENTER - CENTRE;
    const uy = targets[t + jy] * KEYPOINT_SCALE + KEYPOINT_CENTER - CENTRE;
    const qx = CENTRE + scale * (cos * ux - sin * uy) + dx;
    const qy = CENTRE + scale * (sin * ux + cos * uy) + dy;
    if (outside === 'mask' && !(qx >= FRAME_MIN && qx <= FRAME_MAX && qy >= FRAME_MIN && qy <= FRAME_MAX)) {
      targets[t + jx] = 0;
      targets[t + jy] = 0;
      mask[t + jx] = 0;
      mask[t + jy] = 0;
      continue;
    }
    targets[t + jx] = (qx - KEYPOINT_CENTER) / KEYPOINT_SCALE;
    targets[t + jy] = (qy - KEYPOINT_CENTER) / KEYPOINT_SCALE;
  }
}

/** Source pixel `(cx, cy)` of a 96 × 96 image, 0 outside it (integer coordinates). */
function pixelAt(src: Float32Array, cx: number, cy: number): number {
  return cx < 0 || cx > LAST || cy < 0 || cy > LAST ? 0 : src[cy * IMAGE_SIZE + cx];
}

/**
 * Bilinear sample of a 96 × 96 image at `(x, y)` (pixel centres on integers); edge-clamped or zero outside.
 * Called once per output pixel (9216 per face, every epoch): no closures or allocations in here.
 */
function bilinear(src: Float32Array, x: number, y: number, edge: boolean): number {
  if (edge) {
    x = x < 0 ? 0 : x > LAST ? LAST : x;
    y = y < 0 ? 0 : y > LAST ? LAST : y;
  } else if (x <= -1 || x >= IMAGE_SIZE || y <= -1 || y >= IMAGE_SIZE) {
    return 0;
  }
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  // Skip zero-weight neighbours so an exact pixel position returns that pixel bit for bit.
  const top = fx === 0 ? pixelAt(src, x0, y0) : pixelAt(src, x0, y0) * (1 - fx) + pixelAt(src, x0 + 1, y0) * fx;
  if (fy === 0) return top;
  const bottom =
    fx === 0 ? pixelAt(src, x0, y0 + 1) : pixelAt(src, x0, y0 + 1) * (1 - fx) + pixelAt(src, x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

function inRange(field: string, value: number, min: number, max: number, maxIncluded: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (maxIncluded ? value > max : value >= max)) {
    throw new ConfigError(
      `AffineAugmentation: ${field} must be a number in [${min}, ${max}${maxIncluded ? ']' : ')'}, got ${String(value)}`,
    );
  }
}
