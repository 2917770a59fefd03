import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { HistoryRow } from './epoch-logs.js';
import { DataFormatError, DataNotFoundError } from './errors.js';

/**
 * A run's `history.json` / `history.csv` — one file format, written by the training package's
 * `RunDirectoryCallback` and read by reporting, pipeline and inference.
 *
 * One epoch of a run (structurally the training package's `HistoryEntry`): 0-based `epoch`,
 * losses in normalized MSE, RMSE in pixels, `durationMs` in milliseconds.
 */

/** The columns of `history.csv`, in order. */
export const HISTORY_CSV_COLUMNS = [
  'epoch',
  'train_loss',
  'valid_loss',
  'train_rmse_px',
  'valid_rmse_px',
  'learning_rate',
  'momentum',
  'duration_ms',
] as const;

/** `history.csv` text: a header of {@link HISTORY_CSV_COLUMNS}, one row per epoch (1-based epoch numbers, as printed). */
export function historyToCsv(rows: readonly HistoryRow[]): string {
  const lines = [HISTORY_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [r.epoch + 1, r.trainLoss, r.validLoss, r.trainRmsePx, r.validRmsePx, r.learningRate, r.momentum, Math.round(r.durationMs)]
        .map((v) => (Number.isFinite(v) ? String(Number(v.toPrecision(9))) : ''))
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Write `history.json` (the rows as given, 0-based `epoch`) and `history.csv` into `runDir`, atomically.
 */
export async function writeHistory(runDir: string, rows: readonly HistoryRow[]): Promise<void> {
  await writeFileAtomic(join(runDir, 'history.json'), JSON.stringify(rows, null, 1) + '\n');
  await writeFileAtomic(join(runDir, 'history.csv'), historyToCsv(rows));
}

/**
 * Read a run's `history.json` back (as {@link writeHistory} wrote it): one row per epoch, 0-based
 * `epoch`, losses in normalized MSE, RMSE in pixels. JSON has no NaN, so a value written as `null`
 * (no validation set) comes back as `NaN`.
 *
 * @param runDir the run directory holding `history.json`.
 * @throws {DataNotFoundError} when `runDir/history.json` does not exist or cannot be read.
 * @throws {DataFormatError} when it is not JSON or not an array of objects.
 */
export async function readHistory(runDir: string): Promise<HistoryRow[]> {
  const file = join(runDir, 'history.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`${file}: cannot read the run's history (${(cause as Error).message}); expected a run directory written by 'keypoints train'`, { cause });
  }
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (cause) {
    throw new DataFormatError({ file }, `not valid JSON (${(cause as Error).message}); expected an array of epoch rows`, { cause });
  }
  if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    throw new DataFormatError({ file }, 'expected an array of epoch rows ({ epoch, trainLoss, validLoss, … })');
  }
  return rows.map((r: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? NaN : v])),
  ) as unknown as HistoryRow[];
}
