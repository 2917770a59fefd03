/**
 * `specialists.json`, the manifest of a specialists folder (Nouri 2014, specialists): one zod schema,
 * the types inferred from it, the one reader and the one (atomic) writer. The format is in the README
 * ("Specialists"):
 *
 * ```json
 * { "kind": "specialists", "pretrained": "/abs/runs/net6", "workers": 2, "threadsPerWorker": 1,
 *   "wallSeconds": 123.4, "sequentialSeconds": 240.1,
 *   "specialists": [ { "name": "eye_center", "runDir": "eye_center", "columns": ["left_eye_center_x", "…"],
 *                      "status": "completed", "epochs": 40, "bestValidRmsePx": 2.1, "trainSeconds": 60.2 }, "…" ] }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataFormatError, DataNotFoundError, KAGGLE_COLUMNS } from '@keypoints/core';
import { writeFileAtomic } from '@keypoints/core/node';

/**
 * The manifest file that marks a folder of specialist runs: written by `keypoints train-specialists`,
 * read by `keypoints evaluate` / `submit` (an ensemble) and `keypoints plot` (their curves).
 */
export const SPECIALISTS_MANIFEST = 'specialists.json';

/**
 * Status of one specialist. Early stopping counts as `completed` (with `stopReason`); `stopped`, the
 * fit status some manifests hold, is read as `completed`.
 */
const SpecialistStatusSchema = z.union([
  z.enum(['completed', 'cancelled', 'failed']),
  z.literal('stopped').transform((): 'completed' => 'completed'),
]);

const seconds = z.number().finite().nonnegative();

/** One specialist: a normal run directory that predicts its group's columns. */
export const SpecialistEntrySchema = z
  .object({
    /** Group name, e.g. `eye_center`. */
    name: z.string().min(1),
    /** Run directory, relative to the manifest's folder (`eye_center`), or absolute. */
    runDir: z.string().min(1),
    /** Kaggle columns the specialist predicts, in its output order. */
    columns: z
      .array(z.string().refine((c) => KAGGLE_COLUMNS.includes(c), (c) => ({ message: `'${c}' is not a Kaggle keypoint column` })))
      .min(1)
      .readonly(),
    status: SpecialistStatusSchema,
    /** Epochs trained (for a failed one: epochs completed before it failed). */
    epochs: z.number().int().nonnegative(),
    /** Best validation RMSE, pixels; `null` when no epoch completed. */
    bestValidRmsePx: z.number().finite().nonnegative().nullable(),
    /** Training wall time of that process, seconds. */
    trainSeconds: seconds,
    /** Why the fit stopped early (early stopping, cancellation). */
    stopReason: z.string().optional(),
    /** Why it failed (status `failed`), and where its log is. */
    error: z.string().optional(),
  })
  .readonly();

/** `<out>/specialists.json` as {@link writeSpecialistsManifest} writes it: every field of the README's format. */
export const SpecialistsManifestSchema = z
  .object({
    kind: z.literal('specialists'),
    /** Absolute path of the pretrained run directory. */
    pretrained: z.string().min(1),
    /** Parallel worker processes (0 when unknown). */
    workers: z.number().int().nonnegative(),
    /** wasm threads per worker (0 when unknown). */
    threadsPerWorker: z.number().int().nonnegative(),
    /** Wall time of the whole parallel run, seconds. */
    wallSeconds: seconds,
    /** Sum of the specialists' `trainSeconds`: what one after the other would have taken. */
    sequentialSeconds: seconds,
    /** `true` when assembled from run directories trained separately (`--manifest-only`, e.g. six nx targets). */
    assembled: z.literal(true).optional(),
    /** In `SPECIALIST_KEYPOINT_SETS` order. */
    specialists: z.array(SpecialistEntrySchema).min(1).readonly(),
  })
  .readonly();

/**
 * What {@link readSpecialistsManifest} accepts: the same schema, with only what a reader needs
 * required (`kind`, and each specialist's `name`, `runDir`, `columns`), so that hand-written and
 * older manifests still load; every field present is checked as in {@link SpecialistsManifestSchema}.
 */
export const SpecialistsManifestReadSchema = SpecialistsManifestSchema.unwrap()
  .partial({ pretrained: true, workers: true, threadsPerWorker: true, wallSeconds: true, sequentialSeconds: true })
  .extend({
    specialists: z
      .array(SpecialistEntrySchema.unwrap().partial({ status: true, epochs: true, bestValidRmsePx: true, trainSeconds: true }).readonly())
      .min(1)
      .readonly(),
  })
  .readonly();

/** Status of one specialist in the manifest. Early stopping counts as `completed` (with `stopReason`). */
export type SpecialistStatus = z.output<typeof SpecialistStatusSchema>;
/** One specialist in {@link SpecialistsManifest}. */
export type SpecialistEntry = z.output<typeof SpecialistEntrySchema>;
/** `<out>/specialists.json`, complete (as written). */
export type SpecialistsManifest = z.output<typeof SpecialistsManifestSchema>;
/** A manifest as read: {@link SpecialistsManifest} whose informational fields may be absent. */
export type LoadedSpecialistsManifest = z.output<typeof SpecialistsManifestReadSchema>;
/** One specialist of a {@link LoadedSpecialistsManifest}. */
export type LoadedSpecialistEntry = LoadedSpecialistsManifest['specialists'][number];

/** The zod issues on one line: `specialists[2].columns: required; kind: …`. */
function issuesOf(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
      const message = issue.code === 'invalid_type' && issue.received === 'undefined' ? 'required' : issue.message;
      return `${path}: ${message}`;
    })
    .join('; ');
}

/**
 * Read and validate `<dir>/specialists.json`.
 *
 * Guarantees: the result satisfies {@link SpecialistsManifestReadSchema}: `kind` is `specialists`,
 * there is at least one specialist, each with a `name`, a `runDir` (relative to `dir`, or absolute)
 * and a non-empty list of Kaggle `columns`; every other field present has its documented type
 * (`status` `stopped` is read as `completed`). Unknown fields are dropped. Nothing else is read (the
 * run directories are not checked).
 *
 * @param dir the specialists folder, e.g. `runs/specialists`.
 * @returns the manifest (frozen).
 * @throws {DataNotFoundError} when the file is missing or unreadable (the message names it).
 * @throws {DataFormatError} on one line naming the file and every bad field
 *   (`…/specialists.json: specialists[0].columns: required`), or when it is not JSON.
 *
 * @example
 * ```ts
 * const manifest = await readSpecialistsManifest('runs/specialists');
 * for (const s of manifest.specialists) console.log(s.name, s.columns.length, s.status ?? 'completed');
 * ```
 */
export async function readSpecialistsManifest(dir: string): Promise<LoadedSpecialistsManifest> {
  const file = join(dir, SPECIALISTS_MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`${file}: cannot read the specialists manifest (${(cause as Error).message})`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new DataFormatError({ file }, `not valid JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = SpecialistsManifestReadSchema.safeParse(raw);
  if (!parsed.success) throw new DataFormatError({ file }, `not a specialists manifest: ${issuesOf(parsed.error)}`);
  return parsed.data;
}

/**
 * Write `<dir>/specialists.json` atomically and durably (`writeFileAtomic`: a crash leaves the previous
 * manifest or the new one, never a part), after validating it against {@link SpecialistsManifestSchema}.
 * The JSON keeps `manifest`'s key order, two-space indented, with a final newline. `dir` is created when
 * missing.
 *
 * @param dir the specialists folder.
 * @param manifest the complete manifest.
 * @returns the absolute-or-relative path written (`join(dir, SPECIALISTS_MANIFEST)`).
 * @throws {ConfigError} naming the file and every bad field when `manifest` does not satisfy the schema
 *   (nothing is written).
 * @throws the file system's error when the file cannot be written (the previous file is then intact).
 */
export async function writeSpecialistsManifest(dir: string, manifest: SpecialistsManifest): Promise<string> {
  const file = join(dir, SPECIALISTS_MANIFEST);
  const checked = SpecialistsManifestSchema.safeParse(manifest);
  if (!checked.success) throw new ConfigError(`${file}: refusing to write an invalid specialists manifest: ${issuesOf(checked.error)}`);
  await writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
  return file;
}
