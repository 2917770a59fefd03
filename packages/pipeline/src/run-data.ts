import { ConfigError, FULL_KEYPOINT_SET, type KeypointSet } from '@keypoints/core';
import {
  AffineAugmentation,
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
 * @throws {ConfigError} when `groupBy: 'identity'` and the file has no Identity column.
 * @throws {DataFormatError} on bad data, or when no row has every column of the set.
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
  const split = holdoutSplit(dataset, {
    fraction: config.validationFraction,
    seed: config.seed,
    ...(groupedBy === 'identity' ? { groupBy: 'identity' as const } : {}),
  });
  let train = split.train;
  if (config.missingLike) {
    const patterns = missingPatternOf(await readKaggleCsv(config.missingLike, { columns: FULL_KEYPOINT_SET.columns, requireImage: false }));
    train = applyMissingPattern(train, patterns, { seed: config.seed });
  }
  const set = options.keypointSet ?? keypointSetOf(config);
  const dropIncomplete = (options.missing ?? config.missing) === 'drop';
  return {
    train: restrictToKeypointSet(train, set, { dropIncomplete }),
    validation: restrictToKeypointSet(split.validation, set, { dropIncomplete }),
    groupedBy,
    outsideFrame: keypointsOutsideFrame(table),
  };
}

/** The training-batch augmentations of a config, in order (flip, then affine). */
export function augmentationsOf(config: TrainConfig): Augmentation[] {
  return [...(config.flip ? [new FlipAugmentation()] : []), ...(config.affine ? [new AffineAugmentation()] : [])];
}
