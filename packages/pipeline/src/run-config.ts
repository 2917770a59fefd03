import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, DataNotFoundError, FULL_KEYPOINT_SET, formatSchemaIssues, parseJsonText, SPECIALIST_KEYPOINT_SETS, type KeypointSet } from '@keypoints/core';
import { KEYPOINT_SET_NAMES, TrainConfigSchema, type TrainConfig } from './config.js';

/**
 * Read and validate a run directory's `config.json`.
 * @throws {DataNotFoundError} when it is missing; {@link DataFormatError} (file, line, column) when it
 * is not JSON; {@link ConfigError} naming the file and the wrong fields when it does not fit the schema.
 */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  let raw: string;
  try {
    raw = await readFile(join(runDir, 'config.json'), 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`${runDir}: not a run directory (no config.json); train one with 'keypoints train'`, { cause });
  }
  const file = join(runDir, 'config.json');
  const parsed = TrainConfigSchema.safeParse(parseJsonText(raw, file, "a run's settings object (as 'keypoints train' writes it)"));
  if (!parsed.success) throw new ConfigError(`${file}: ${formatSchemaIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** The {@link KeypointSet} of a config's `keypoints` name (`full` or a specialist group). */
export function keypointSetOf(config: Pick<TrainConfig, 'keypoints'>): KeypointSet {
  if (config.keypoints === 'full') return FULL_KEYPOINT_SET;
  const set = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === config.keypoints);
  if (!set) throw new ConfigError(`unknown keypoint set '${config.keypoints}'; expected one of ${KEYPOINT_SET_NAMES.join(', ')}`);
  return set;
}
