import { ConfigError, IMAGE_PIXELS, IMAGE_SIZE, KEYPOINT_SCALE } from '@keypoints/core';
import type { KeypointSet, SeededRandom } from '@keypoints/core';
import type { Augmentation, MutableBatch } from '../augmentation.js';
import { keypointColumns } from './keypoint-columns.js';

/**
 * Where a horizontal flip puts a keypoint's x. Both reverse the image columns (column `c` → `95 − c`);
 * they differ in what a keypoint coordinate means, by exactly one pixel after the flip.
 *
 * - `'pixel-centre'` (default): pixel `c` is centred **on** `x = c` and covers `[c − 0.5, c + 0.5]`, so
 *   the image spans `[−0.5, 95.5]`, its mirror axis is `x = 47.5` and a flip maps `x → 95 − x` pixels,
 *   i.e. `x → −x − 1/48` normalized. This is the convention of this project's landmark converter
 *   (`toCropPixels` in `convert/crop-rule.ts`: `u = (p − left + 0.5) × 96 / side − 0.5`, so output pixel
 *   `i`'s centre is `u = i`), hence of the embedded sample (`@keypoints/sample-data`).
 * - `'nouri'`: `x → 96 − x` pixels, `−x` normalized (Nouri 2014 kfkd.py `FlipBatchIterator`:
 *   `yb[indices, ::2] *= -1`). Together with reversed columns this is exact only if pixel `c` covers
 *   `[c, c + 1]` (centre `c + 0.5`), an assumption Kaggle's data does not document. On data made with the
 *   pixel-centre convention it puts every flipped x one pixel right of the mirrored feature.
 */
export type FlipConvention = 'pixel-centre' | 'nouri';

/** Options of {@link FlipAugmentation}. */
export interface FlipAugmentationOptions {
  /**
   * Fraction of each batch that is flipped, in [0, 1]: exactly `floor(probability × size)` distinct
   * samples, drawn without replacement (Nouri 2014: `np.random.choice(bs, bs / 2, replace=False)`), not an
   * independent coin per sample. Default `0.5`.
   */
  readonly probability?: number;
  /** Pixel convention of the keypoints, see {@link FlipConvention}. Default `'pixel-centre'`. */
  readonly convention?: FlipConvention;
}

/** Per convention: the normalized x of a mirrored keypoint, given its normalized x. */
const MIRROR: Record<FlipConvention, (x: number) => number> = {
  // 95 − px in pixels: ((95 − (48x + 48)) − 48) / 48 = −x − 1/48
  'pixel-centre': (x) => -x - 1 / KEYPOINT_SCALE,
  nouri: (x) => -x,
};

/**
 * Horizontal-flip augmentation (Nouri 2014, net3/net5+ `FlipBatchIterator`; the `_aug` of Staravoitau's
 * run names). In each training batch it flips a random `floor(probability × size)` samples: the image
 * `[96, 96, 1]` is mirrored left–right (column `c` → `95 − c`, every row), each present x keypoint is
 * mirrored (default `x → 95 − x` pixels, i.e. `−x − 1/48` normalized; see {@link FlipConvention} for why
 * not Nouri's `96 − x`), y is unchanged, and then the left/right columns of the active keypoint set's
 * `flipPairs` swap (targets **and** mask), so `left_eye_center` is again the subject's left eye — a flip
 * that mirrors x without swapping the labels teaches the net to put the left eye on the wrong side.
 *
 * Missing targets (mask 0) stay 0 and are not mirrored; they swap their mask with their partner. The
 * draws come from the iterator's per-epoch `rng` only (same seed, same flips). It works on any
 * {@link KeypointSet} (the full set or a specialist group, each with its own pairs); a set without pairs
 * (e.g. `nose_tip`) just mirrors x. Validation data is never augmented: the `BatchIterator` applies
 * augmentations to the training batches it was given them for, and the trainer evaluates validation
 * datasets directly.
 *
 * Flipping a sample twice gives back its image and mask exactly; with `'pixel-centre'` its targets come
 * back within one float32 ulp (≤ 1.2e-7 normalized, < 6e-6 px: `−x − 1/48` cannot be an exact float32
 * involution), with `'nouri'` exactly.
 *
 * @example
 * ```ts
 * import { BatchIterator, FlipAugmentation } from '@keypoints/data';
 * const batches = new BatchIterator(train, { batchSize: 128, augmentations: [new FlipAugmentation()] });
 * ```
 */
export class FlipAugmentation implements Augmentation {
  /** `'flip'`. */
  readonly name = 'flip';
  /** Fraction of each batch flipped (exactly `floor(probability × size)` samples). */
  readonly probability: number;
  /** Where a flipped x goes, see {@link FlipConvention}. */
  readonly convention: FlipConvention;

  /**
   * @param options `probability` (default 0.5: half of each batch), `convention` (default `'pixel-centre'`).
   * @throws {ConfigError} when `probability` is not a number in [0, 1] or `convention` is unknown.
   */
  constructor(options: FlipAugmentationOptions = {}) {
    const { probability = 0.5, convention = 'pixel-centre' } = options;
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new ConfigError(`FlipAugmentation: probability must be a number in [0, 1], got ${String(probability)}`);
    }
    if (!Object.hasOwn(MIRROR, convention)) {
      throw new ConfigError(`FlipAugmentation: convention must be 'pixel-centre' or 'nouri', got ${JSON.stringify(convention)}`);
    }
    this.probability = probability;
    this.convention = convention;
  }

  /**
   * Flip `floor(probability × batch.size)` distinct samples of `batch` in place, chosen with `rng`
   * (a partial Fisher–Yates shuffle: one `rng.int` per flipped sample).
   * @param batch images `[size, 96, 96, 1]` float32, targets and mask `[size, K]` (normalized, 0/1).
   * @param rng the epoch's seeded generator.
   * @param keypointSet the columns of targets/mask and their flip pairs.
   * @throws {ConfigError} when the keypoint set's columns are not `…_x`/`…_y` pairs.
   */
  apply(batch: MutableBatch, rng: SeededRandom, keypointSet: KeypointSet): void {
    const count = Math.min(batch.size, Math.floor(this.probability * batch.size + 1e-9));
    if (count === 0) return;
    const order = Array.from({ length: batch.size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + rng.int(batch.size - i);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    flipSamples(batch, order.slice(0, count), keypointSet, this.convention);
  }
}

/**
 * Flip the given samples of a batch in place, deterministically (the work of {@link FlipAugmentation},
 * usable for test-time flips too): mirror each image left–right (`[96, 96, 1]`, column `c` → `95 − c`),
 * mirror each present x target (`'pixel-centre'`: `x → −x − 1/48` normalized = `95 − x` px; `'nouri'`:
 * `x → −x` = `96 − x` px), then swap the targets and mask of every `keypointSet.flipPairs` pair.
 * Masked targets (mask 0) are left at 0.
 *
 * @param batch images `[size, 96, 96, 1]` float32, targets and mask `[size, K]`, `K = keypointSet.columns.length`.
 * @param indices samples to flip (each at most once; a repeated index is flipped again, i.e. restored).
 * @param keypointSet the columns of targets/mask and their flip pairs.
 * @param convention default `'pixel-centre'`, see {@link FlipConvention}.
 * @throws {RangeError} when an index is outside `[0, batch.size)`.
 * @throws {ConfigError} when the keypoint set's columns are not `…_x`/`…_y` pairs.
 */
export function flipSamples(
  batch: MutableBatch,
  indices: Iterable<number>,
  keypointSet: KeypointSet,
  convention: FlipConvention = 'pixel-centre',
): void {
  const { isX } = keypointColumns(keypointSet);
  const mirror = MIRROR[convention];
  const k = isX.length;
  const { images, targets, mask } = batch;
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < batch.size)) {
      throw new RangeError(`flipSamples: sample index ${i} is outside the batch of ${batch.size}`);
    }
    for (let row = i * IMAGE_PIXELS; row < (i + 1) * IMAGE_PIXELS; row += IMAGE_SIZE) {
      for (let c = 0, d = IMAGE_SIZE - 1; c < d; c++, d--) {
        const tmp = images[row + c];
        images[row + c] = images[row + d];
        images[row + d] = tmp;
      }
    }
    const t = i * k;
    for (let j = 0; j < k; j++) {
      if (isX[j] === 1 && mask[t + j] !== 0) targets[t + j] = mirror(targets[t + j]);
    }
    for (const [a, b] of keypointSet.flipPairs) {
      const ta = targets[t + a];
      targets[t + a] = targets[t + b];
      targets[t + b] = ta;
      const ma = mask[t + a];
      mask[t + a] = mask[t + b];
      mask[t + b] = ma;
    }
  }
}
