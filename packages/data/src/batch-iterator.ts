import { ConfigError, IMAGE_PIXELS, SeededRandom } from '@keypoints/core';
import type { Augmentation, MutableBatch } from './augmentation.js';
import type { Batch, Dataset } from './dataset.js';

/** Options of {@link BatchIterator}. */
export interface BatchIteratorOptions {
  /** Samples per batch (a positive integer). Default `128` (Nouri 2014). */
  readonly batchSize?: number;
  /** Shuffle the rows every epoch. Default `true`; pass `false` for validation / prediction. */
  readonly shuffle?: boolean;
  /** Seed of the per-epoch shuffles and augmentation draws (any integer). Default `42`. */
  readonly seed?: number;
  /** Applied in order to every batch (training only: leave empty for validation). Default `[]`. */
  readonly augmentations?: readonly Augmentation[];
}

/** Salt that separates the augmentation random stream from the shuffle stream of the same epoch. */
const AUGMENTATION_STREAM = 0x5bd1e995;

/** A 32-bit hash of (seed, epoch, stream): the seed of one epoch's generator (murmur3 finaliser). */
function epochSeed(seed: number, epoch: number, stream: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Cuts a dataset into mini-batches, one epoch at a time (Nouri 2014's `BatchIterator`, with a seeded,
 * resumable shuffle and an augmentation chain).
 *
 * - Every row appears exactly once per epoch; the last batch is short when `batchSize` does not divide
 *   `dataset.count` (it is kept, not dropped).
 * - The order of epoch `e` depends only on `(seed, e)`: a run resumed at epoch 37 sees the same batches
 *   as an uninterrupted one, and iterating `epoch(e)` twice gives the same batches.
 * - Each batch holds images `[size, 96, 96, 1]` float32 in [0, 1], targets `[size, K]` normalized
 *   `(px − 48) / 48` and mask `[size, K]` 0/1 (`K = dataset.keypointSet.columns.length`).
 * - With augmentations, each batch is a fresh copy and the augmentations run on it in order with the
 *   epoch's seeded generator; the dataset's arrays are never changed. A shuffled batch is always a fresh
 *   copy. Only with `shuffle: false` and no augmentations are batches views (`subarray`) of the dataset's
 *   arrays: treat them as read-only.
 *
 * @example
 * ```ts
 * const batches = new BatchIterator(train, { batchSize: 128, seed: 42 });
 * for (let epoch = 0; epoch < 400; epoch++) {
 *   for (const batch of batches.epoch(epoch)) trainStep(batch.images, batch.targets, batch.mask);
 * }
 * ```
 */
export class BatchIterator {
  /** The dataset cut into batches. */
  readonly dataset: Dataset;
  /** Samples per batch (the last batch of an epoch may be smaller). */
  readonly batchSize: number;
  /** Whether rows are shuffled every epoch. */
  readonly shuffle: boolean;
  /** Seed of the per-epoch shuffles and augmentation draws. */
  readonly seed: number;
  /** Augmentations applied, in order, to every batch. */
  readonly augmentations: readonly Augmentation[];

  /**
   * @param dataset rows to iterate over.
   * @param options `batchSize` (default 128), `shuffle` (default `true`), `seed` (default 42),
   *   `augmentations` (default none).
   * @throws {ConfigError} when `batchSize` is not a positive integer, `seed` is not an integer, or an
   *   augmentation has no `apply` function.
   */
  constructor(dataset: Dataset, options: BatchIteratorOptions = {}) {
    const { batchSize = 128, shuffle = true, seed = 42, augmentations = [] } = options;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) {
      throw new ConfigError(`BatchIterator: batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    if (!Number.isInteger(seed)) throw new ConfigError(`BatchIterator: seed must be an integer, got ${String(seed)}`);
    augmentations.forEach((a, i) => {
      if (typeof a?.apply !== 'function') {
        throw new ConfigError(`BatchIterator: augmentation #${i + 1} (${String(a?.name)}) has no apply(batch, rng, keypointSet) method`);
      }
    });
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.augmentations = Object.freeze([...augmentations]);
  }

  /** Number of samples per epoch: `dataset.count` (every row once). */
  get count(): number {
    return this.dataset.count;
  }

  /** Number of batches in one epoch: `ceil(dataset.count / batchSize)`. */
  get batchesPerEpoch(): number {
    return Math.ceil(this.dataset.count / this.batchSize);
  }

  /**
   * The row order of epoch `epochIndex` (dataset row indices, length `dataset.count`): a seeded
   * permutation when shuffling, `0, 1, …, count − 1` otherwise.
   * @throws {ConfigError} when `epochIndex` is not a non-negative integer.
   */
  epochOrder(epochIndex: number): Int32Array {
    checkEpoch(epochIndex);
    const n = this.dataset.count;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return Int32Array.from(new SeededRandom(epochSeed(this.seed, epochIndex, 0)).permutation(n));
  }

  /**
   * The batches of epoch `epochIndex` (0-based). The result can be iterated more than once and gives
   * the same batches each time; batches are made lazily, one per step.
   * @throws {ConfigError} when `epochIndex` is not a non-negative integer.
   */
  epoch(epochIndex: number): Iterable<Batch> {
    checkEpoch(epochIndex);
    return { [Symbol.iterator]: () => this.batches(epochIndex) };
  }

  private *batches(epochIndex: number): Generator<Batch, void, undefined> {
    const { dataset, batchSize, augmentations } = this;
    const n = dataset.count;
    const k = dataset.keypointSet.columns.length;
    if (!this.shuffle && augmentations.length === 0) {
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        yield {
          size: end - start,
          images: dataset.images.subarray(start * IMAGE_PIXELS, end * IMAGE_PIXELS),
          targets: dataset.targets.subarray(start * k, end * k),
          mask: dataset.mask.subarray(start * k, end * k),
        };
      }
      return;
    }
    const order = this.epochOrder(epochIndex);
    const rng = new SeededRandom(epochSeed(this.seed, epochIndex, AUGMENTATION_STREAM));
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(n, start + batchSize) - start;
      const batch: MutableBatch = {
        size,
        images: new Float32Array(size * IMAGE_PIXELS),
        targets: new Float32Array(size * k),
        mask: new Float32Array(size * k),
      };
      for (let i = 0; i < size; i++) {
        const r = order[start + i];
        batch.images.set(dataset.images.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
        batch.targets.set(dataset.targets.subarray(r * k, (r + 1) * k), i * k);
        batch.mask.set(dataset.mask.subarray(r * k, (r + 1) * k), i * k);
      }
      for (const augmentation of augmentations) augmentation.apply(batch, rng, dataset.keypointSet);
      yield batch;
    }
  }
}

function checkEpoch(epochIndex: number): void {
  if (!(Number.isInteger(epochIndex) && epochIndex >= 0)) {
    throw new ConfigError(`BatchIterator: epoch index must be a non-negative integer, got ${String(epochIndex)}`);
  }
}
