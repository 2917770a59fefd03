import type { KeypointSet, SeededRandom } from '@keypoints/core';

/**
 * A training batch that an {@link Augmentation} may change in place.
 *
 * Its arrays are copies made for this batch alone (never the dataset's arrays), so writing into them
 * is safe. Shapes and units are those of `Batch`:
 * - `images`: `[size, 96, 96, 1]` float32 in [0, 1], NHWC, row-major;
 * - `targets`: `[size, K]` float32 normalized `(px − 48) / 48`, columns of the active keypoint set;
 * - `mask`: `[size, K]` float32, 1 where the target is present, 0 where missing (a masked target is 0).
 */
export interface MutableBatch {
  /** Number of samples (the last batch of an epoch may be short). */
  readonly size: number;
  /** `[size, 96, 96, 1]` float32 in [0, 1]; change in place. */
  readonly images: Float32Array;
  /** `[size, K]` float32 normalized `(px − 48) / 48`; change in place. */
  readonly targets: Float32Array;
  /** `[size, K]` float32 0/1; change in place (e.g. swap with the targets under a flip). */
  readonly mask: Float32Array;
}

/**
 * A training-time augmentation, applied by `BatchIterator` to every training batch, in the order given,
 * before the batch is handed out. Validation iterators are built without augmentations.
 *
 * Contract:
 * - change `batch` in place; do not keep references to its arrays after `apply` returns;
 * - draw every random number from `rng` (seeded per epoch by the iterator), so a run with the same seed
 *   sees the same augmented batches, resumed runs included;
 * - use `keypointSet` for anything that depends on the columns (e.g. the left/right `flipPairs` that a
 *   horizontal flip must swap after mapping x → −x in normalized units);
 * - keep masked targets consistent: a target whose mask is 0 must stay 0 with its mask.
 *
 * @example
 * ```ts
 * const brighten: Augmentation = {
 *   name: 'brighten',
 *   apply(batch, rng) {
 *     const delta = rng.uniform(0, 0.1);
 *     for (let i = 0; i < batch.images.length; i++) batch.images[i] = Math.min(1, batch.images[i] + delta);
 *   },
 * };
 * new BatchIterator(train, { augmentations: [brighten] });
 * ```
 */
export interface Augmentation {
  /** Short name, for logs and run configs (e.g. `flip`). */
  readonly name: string;
  /**
   * Augment `batch` in place.
   * @param batch the batch's own copies of images `[size, 96, 96, 1]`, targets and mask `[size, K]`.
   * @param rng the epoch's seeded generator, shared by the augmentations of that epoch in order.
   * @param keypointSet the columns of `targets`/`mask` and their flip pairs.
   */
  apply(batch: MutableBatch, rng: SeededRandom, keypointSet: KeypointSet): void;
}
