import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, DataNotFoundError, FULL_KEYPOINT_SET, SPECIALIST_KEYPOINT_SETS, type KeypointSet } from '@keypoints/core';
import { KEYPOINT_SET_NAMES, TrainConfigSchema, type TrainConfig } from './config.js';

/**
 * Read and validate a run directory's `config.json`.
 * @throws {DataNotFoundError} when it is missing; {@link ConfigError} when invalid.
 */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  let raw: string;
  try {
    raw = await readFile(join(runDir, 'config.json'), 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`${runDir}: not a run directory (no config.json); train one with 'keypoints train'`, { cause });
  }
  const parsed = TrainConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new ConfigError(`${join(runDir, 'config.json')}: ${parsed.error.message}`);
  return parsed.data;
}

/** The {@link KeypointSet} of a config's `keypoints` name (`full` or a specialist group). */
export function keypointSetOf(config: Pick<TrainConfig, 'keypoints'>): KeypointSet {
  if (config.keypoints === 'full') return FULL_KEYPOINT_SET;
  const set = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === config.keypoints);
  if (!set) throw new ConfigError(`unknown keypoint set '${config.keypoints}'; expected one of ${KEYPOINT_SET_NAMES.join(', ')}`);
  return set;
}
