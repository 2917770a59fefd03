import { ConfigError, DataFormatError, FULL_KEYPOINT_SET, type KeypointSet } from '@keypoints/core';
import {
  AffineAugmentation,
  PhotometricAugmentation,
  completeRowCount,
  FlipAugmentation,
  holdoutSplit,
  applyMissingPattern,
  keypointsOutsideFrame,
  missingPatternOf,
  readKaggleCsv,
  restrictToKeypointSet,
  toDataset,
  type Augmentation,
  type Dataset,
  type OutsideFrame,
} from '@keypoints/data';
import type { TrainConfig } from './config.js';
import { keypointSetOf } from './run-config.js';

/** Data of a run after loading and splitting. */
export interface RunData {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly groupedBy: 'identity' | 'none';
  /** Keypoint values of the file outside the 96×96 frame (warned about by `trainRun`). */
  readonly outsideFrame: OutsideFrame;
}

/** Options of {@link loadRunData}. */
export interface LoadRunDataOptions {
  /** Keypoint set to narrow to; default the run's (`config.keypoints`). */
  readonly keypointSet?: KeypointSet;
  /** `drop` rows missing a column of the set, or `mask` them; default the run's (`config.missing`). */
  readonly missing?: 'drop' | 'mask';
}

/**
 * What decides a run's validation split in {@link loadRunData} (file, row limit, fraction, grouping,
 * seed) as one string: runs with equal keys have the same validation faces.
 */
export function splitKey(config: Pick<TrainConfig, 'data' | 'maxRows' | 'validationFraction' | 'groupBy' | 'seed'>): string {
  return JSON.stringify([config.data, config.maxRows ?? null, config.validationFraction, config.groupBy, config.seed]);
}

/**
 * Load the training file of `config` and split it exactly as a training run does (same seed,
 * fraction and grouping), so `evaluate` sees the same validation set.
 *
 * The split is made on **all** rows before any row is dropped, so the full-set model and every
 * specialist of the same file, seed and fraction share one validation set (an ensemble of
 * specialists can then be evaluated on it without leakage). Then: with `missingLike`, the training
 * rows get the missing-value pattern of that Kaggle table; last, both sides are narrowed to the
 * run's keypoint set, dropping (or masking, `missing: 'mask'`) rows that lack one of its columns.
 *
 * Before anything trains, each side must have something to learn from or measure (see
 * {@link checkUsableTargets}): a side with no row (`drop`) or no value (`mask`) of the set is an
 * error naming the file, the set and the counts — not a NaN loss reported as divergence later.
 *
 * @throws {ConfigError} when `groupBy: 'identity'` and the file has no Identity column, or the
 * split leaves one side empty (the message names the file).
 * @throws {DataFormatError} on bad data, or when the training or the validation side has no usable
 * target of the set (no complete row with `missing: 'drop'`, no value at all with `'mask'`).
 */
export async function loadRunData(config: TrainConfig, options: LoadRunDataOptions = {}): Promise<RunData> {
  const table = await readKaggleCsv(config.data, {
    columns: FULL_KEYPOINT_SET.columns,
    ...(config.maxRows ? { maxRows: config.maxRows } : {}),
  });
  const dataset = toDataset(table, FULL_KEYPOINT_SET, { dropIncomplete: false });
  const hasIdentity = dataset.identities !== undefined;
  if (config.groupBy === 'identity' && !hasIdentity) {
    throw new ConfigError(`--group-by identity: ${config.data} has no Identity column`);
  }
  const groupedBy = config.groupBy === 'none' || !hasIdentity ? 'none' : 'identity';
  let split: ReturnType<typeof holdoutSplit>;
  try {
    split = holdoutSplit(dataset, {
      fraction: config.validationFraction,
      seed: config.seed,
      ...(groupedBy === 'identity' ? { groupBy: 'identity' as const } : {}),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(`${config.data} (${dataset.count} rows): ${err.message.replace(/^holdoutSplit: /, '')}`, { cause: err });
  }
  let train = split.train;
  if (config.missingLike) {
    const patterns = missingPatternOf(await readKaggleCsv(config.missingLike, { columns: FULL_KEYPOINT_SET.columns, requireImage: false }));
    train = applyMissingPattern(train, patterns, { seed: config.seed });
  }
  const set = options.keypointSet ?? keypointSetOf(config);
  const missing = options.missing ?? config.missing;
  const dropIncomplete = missing === 'drop';
  checkUsableTargets(config.data, set, missing, { training: train, validation: split.validation });
  return {
    train: restrictToKeypointSet(train, set, { dropIncomplete }),
    validation: restrictToKeypointSet(split.validation, set, { dropIncomplete }),
    groupedBy,
    outsideFrame: keypointsOutsideFrame(table),
  };
}

/** Rows of `dataset` with at least one value of `set` (mask set), and the number of such values. */
function valuesOf(dataset: Dataset, set: KeypointSet): { rows: number; values: number } {
  const width = dataset.keypointSet.columns.length;
  const index = set.columns.map((c) => dataset.keypointSet.columns.indexOf(c));
  let rows = 0;
  let values = 0;
  for (let r = 0; r < dataset.count; r++) {
    let n = 0;
    for (const c of index) if (c >= 0 && dataset.mask[r * width + c] > 0) n++;
    if (n > 0) rows++;
    values += n;
  }
  return { rows, values };
}

/**
 * Fail before training when a side of the split has nothing to train on or to validate against:
 * with `missing: 'drop'`, no row with every column of `set`; with `'mask'`, no value of `set` at
 * all (every target masked: the loss would be NaN and look like divergence). The message names the
 * file, the set and the counts of both sides.
 *
 * @param file the data file (named in the message).
 * @param set the run's keypoint set.
 * @param missing how rows missing a column of the set are handled.
 * @param sides the training and validation datasets before narrowing to the set (full columns).
 * @throws {DataFormatError} when a side has no usable target.
 */
function checkUsableTargets(file: string, set: KeypointSet, missing: 'drop' | 'mask', sides: { training: Dataset; validation: Dataset }): void {
  const usable = (d: Dataset) => (missing === 'drop' ? completeRowCount(d, set) : valuesOf(d, set).rows);
  const training = usable(sides.training);
  const validation = usable(sides.validation);
  if (training > 0 && validation > 0) return;
  const rows = `rows ${missing === 'drop' ? 'with every keypoint' : 'with a value'} of keypoint set '${set.name}' (${set.columns.join(', ')})`;
  const tally = `${training} of ${sides.training.count} training and ${validation} of ${sides.validation.count} validation ${rows}`;
  const orMask = missing === 'drop' ? ', or --missing mask' : '';
  if (training === 0 && validation === 0) {
    throw new DataFormatError({ file }, `${tally}: nothing to train on; choose another --keypoints${orMask}, or a file with these columns`);
  }
  const side = training === 0 ? 'training' : 'validation';
  throw new DataFormatError(
    { file },
    `${tally}: the ${side} side of the split is empty${side === 'validation' ? ' (the validation loss would be NaN)' : ''}; ` +
      `use more rows (--limit), another --validation-fraction or --seed${orMask}`,
  );
}

/** The training-batch augmentations of a config, in order (flip, affine, then photometric). */
export function augmentationsOf(config: TrainConfig): Augmentation[] {
  return [
    ...(config.flip ? [new FlipAugmentation()] : []),
    ...(config.affine ? [new AffineAugmentation()] : []),
    ...(config.photometric ? [new PhotometricAugmentation()] : []),
  ];
}
