/**
 * The experiments as plain data for tools (the nx plugin makes one target per entry): names and
 * descriptions of {@link EXPERIMENTS} and the specialist groups. Run as a script it prints the
 * catalog as JSON on stdout:
 *
 *   node --conditions=@keypoints/source --import tsx packages/experiments/src/catalog.ts
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SPECIALIST_NAMES } from '@keypoints/pipeline';
import { EXPERIMENTS } from './experiments.js';

/** What the nx plugin reads: JSON-safe, no configs. */
export interface ExperimentCatalog {
  /** One per experiment, in {@link EXPERIMENTS} order. */
  readonly experiments: readonly { readonly name: string; readonly source: string; readonly description: string }[];
  /** The specialist keypoint groups (`SPECIALIST_KEYPOINT_SETS` order). */
  readonly specialists: readonly string[];
}

/** The catalog of {@link EXPERIMENTS} and the specialist groups. */
export function experimentCatalog(): ExperimentCatalog {
  return {
    experiments: EXPERIMENTS.map(({ name, source, description }) => ({ name, source, description })),
    specialists: [...SPECIALIST_NAMES],
  };
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.stdout.write(JSON.stringify(experimentCatalog()) + '\n');
}
