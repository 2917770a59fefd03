/**
 * The on-disk format of checkpoints, and how a resume picks one: writing a verified checkpoint
 * folder ({@link writeCheckpoint}), verifying one ({@link verifyCheckpoint}), loading one
 * ({@link loadCheckpoint}), and choosing the newest complete and verified checkpoint of a run among
 * whatever a crash left behind ({@link loadLatestCheckpoint}).
 *
 * One checkpoint folder (`checkpoints/last`, `best`, `previous`):
 * ```
 * state.json      completed epochs, learning rate, momentum, optimizer specs, callback states (JSON)
 * optimizer.bin   optimizer slot variables (Nesterov velocities), tf.io.encodeWeights layout
 * callbacks.bin   the callback states' Float32Arrays (e.g. early stopping's best weights)
 * model/          the model, TensorFlow.js layers format (model.json + weights.bin), not portable:
 *                 dropout stays `KeypointsDropout` with its seed (see `saveModel`'s `portable`)
 * manifest.json   written last: every file above with its size (bytes) and sha256, plus its own sha256
 * ```
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { DataNotFoundError, ModelIOError } from '@keypoints/core';
import { findInterruptedSwap, replaceDirAtomic } from '@keypoints/core/node';
import { loadModel, saveModel } from '@keypoints/models';
import type { TrainingState } from './trainer.js';

const STATE_JSON = 'state.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const MODEL_DIR = 'model';
const CALLBACKS_BIN = 'callbacks.bin';
/** The name of a checkpoint's manifest file (sizes and sha256 of every other file). */
export const CHECKPOINT_MANIFEST = 'manifest.json';
/** Checkpoint format written by this version: 2 = with a verified manifest (1: none, before). */
export const CHECKPOINT_FORMAT = 2;

/**
 * Test hook (fault injection only): when this environment variable holds a number of
 * milliseconds, every checkpoint write pauses that long between its steps (each file, the
 * rotation of `last` to `previous`, the swap), widening the windows a SIGKILL can land in.
 * Unset in normal use.
 */
export const CHECKPOINT_FAULT_DELAY_ENV = 'KEYPOINTS_TEST_CHECKPOINT_DELAY_MS';

async function faultPause(): Promise<void> {
  const ms = Number(process.env[CHECKPOINT_FAULT_DELAY_ENV] ?? 0);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** One file of a checkpoint as listed in its manifest (path relative to the folder, `/`-separated). */
export interface CheckpointFileEntry {
  readonly bytes: number;
  readonly sha256: string;
}

interface ManifestBody {
  readonly format: number;
  readonly epochsCompleted: number;
  readonly files: Record<string, CheckpointFileEntry>;
}

/**
 * A checkpoint that failed verification or could not be read: `dir` is the checkpoint folder,
 * `file` the damaged file in it (relative, e.g. `optimizer.bin`, `model/weights.bin`), and the
 * message says both and what is wrong (one line). Code `MODEL_IO`.
 */
export class CheckpointDamagedError extends ModelIOError {
  constructor(
    readonly dir: string,
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`damaged checkpoint ${dir}: ${file} ${reason}`, options);
  }
}

/** sha256 (hex) and size of a file, streamed. */
async function digest(path: string): Promise<CheckpointFileEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Every file under `dir`, relative, `/`-separated, sorted. */
async function listFiles(dir: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** The manifest's bytes: compact JSON of the body plus `sha256` of that JSON (so any changed byte is detected). */
function encodeManifest(body: ManifestBody): string {
  return JSON.stringify({ ...body, sha256: createHash('sha256').update(JSON.stringify(body)).digest('hex') });
}

/**
 * Serialise callback states: Float32Arrays go to one binary blob (referenced as
 * `{ $f32: [offset, length] }`), everything else to JSON; non-finite numbers become null.
 */
function encodeStates(states: Record<string, unknown>): { json: string; bin: Uint8Array } {
  const parts: Float32Array[] = [];
  let offset = 0;
  const json = JSON.stringify(states, (_k, v) => {
    if (v instanceof Float32Array) {
      parts.push(v);
      const ref = { $f32: [offset, v.length] };
      offset += v.length;
      return ref;
    }
    return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  });
  const all = new Float32Array(offset);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return { json, bin: new Uint8Array(all.buffer) };
}

function decodeStates(json: string, bin: Uint8Array): Record<string, unknown> {
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return JSON.parse(json, (_k, v) =>
    v && typeof v === 'object' && Array.isArray(v.$f32) ? all.slice(v.$f32[0], v.$f32[0] + v.$f32[1]) : v,
  );
}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /**
   * Keep the checkpoint being replaced: before the new one is written, the current `dir` (if any)
   * is renamed to this folder (replacing what was there), so a resume can fall back to it when the
   * new one turns out damaged. The checkpoint callback passes `checkpoints/previous` for `last`.
   */
  readonly keepPrevious?: string;
}

/**
 * Write one checkpoint folder atomically (`replaceDirAtomic` of `@keypoints/core/node`): every
 * file goes to a temporary sibling folder, then `manifest.json` lists each file's size and sha256
 * (read back from disk), the folder is fsynced and swapped in by rename. On failure the previous
 * checkpoint is intact (in `dir`, or in `keepPrevious`). A crash leaves, besides complete
 * checkpoints, at most an incomplete `.<name>.tmp-*` or a complete `.<name>.old-*` folder;
 * {@link loadLatestCheckpoint} sorts that out.
 *
 * @param dir the checkpoint folder, e.g. `runs/net1/checkpoints/last`.
 * @param model the model whose weights are saved (TensorFlow.js layers format).
 * @param state the training state (see `CallbackContext.getTrainingState`).
 * @throws {ModelIOError} or the file system's error when a write fails.
 */
export async function writeCheckpoint(dir: string, model: tf.LayersModel, state: TrainingState, options: WriteCheckpointOptions = {}): Promise<void> {
  if (options.keepPrevious !== undefined && existsSync(dir)) {
    // Rotate: a crash between the two steps leaves `dir` (or `previous`) complete and verified.
    await rm(options.keepPrevious, { recursive: true, force: true });
    await faultPause();
    await rename(dir, options.keepPrevious);
    await faultPause();
  }
  await replaceDirAtomic(dir, async (tmp) => {
    // Not portable: the checkpoint keeps `KeypointsDropout` with its mask seed, so a resume
    // continues with the masks the uninterrupted run would draw (a run's `model/` is portable).
    await saveModel(model, join(tmp, MODEL_DIR), { portable: false });
    await faultPause();
    await writeFile(join(tmp, OPTIMIZER_BIN), new Uint8Array(state.optimizer.data));
    await faultPause();
    const callbacks = encodeStates(state.callbacks);
    await writeFile(join(tmp, CALLBACKS_BIN), callbacks.bin);
    const json = {
      format: CHECKPOINT_FORMAT,
      epochsCompleted: state.epochsCompleted,
      learningRate: state.learningRate,
      momentum: state.momentum,
      optimizer: { specs: state.optimizer.specs, file: OPTIMIZER_BIN },
      callbacks: callbacks.json,
      callbacksBinary: CALLBACKS_BIN,
      savedAt: new Date().toISOString(),
    };
    await writeFile(join(tmp, STATE_JSON), JSON.stringify(json, null, 1));
    await faultPause();
    const files: Record<string, CheckpointFileEntry> = {};
    for (const rel of await listFiles(tmp)) files[rel] = await digest(join(tmp, rel));
    await writeFile(join(tmp, CHECKPOINT_MANIFEST), encodeManifest({ format: CHECKPOINT_FORMAT, epochsCompleted: state.epochsCompleted, files }));
    await faultPause();
  });
}

/** What {@link verifyCheckpoint} found. */
export interface VerifiedCheckpoint {
  /** The folder (absolute). */
  readonly dir: string;
  readonly epochsCompleted: number;
  /** True for a checkpoint written before manifests existed (format 1): complete-looking but not verifiable. */
  readonly legacy: boolean;
}

/**
 * Check a checkpoint folder against its manifest: the manifest's own checksum, then every file it
 * lists (present, same size, same sha256). A folder written before manifests existed (a
 * `state.json` with no `format`) is reported as `legacy` (not verifiable).
 *
 * @param dirArg the checkpoint folder.
 * @throws {CheckpointDamagedError} naming the folder and the first damaged or missing file;
 * {@link DataNotFoundError} when the folder holds no checkpoint at all (no manifest, no state.json).
 */
export async function verifyCheckpoint(dirArg: string): Promise<VerifiedCheckpoint> {
  const dir = resolve(dirArg);
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  let raw: string;
  try {
    raw = await readFile(manifestPath, 'utf8');
  } catch (cause) {
    if ((cause as { code?: string }).code !== 'ENOENT') throw new CheckpointDamagedError(dir, CHECKPOINT_MANIFEST, `is unreadable (${(cause as Error).message})`, { cause });
    return verifyLegacy(dir);
  }
  let body: ManifestBody;
  try {
    const { sha256, ...rest } = JSON.parse(raw) as ManifestBody & { sha256: string };
    if (createHash('sha256').update(JSON.stringify(rest)).digest('hex') !== sha256) throw new Error('checksum mismatch');
    body = rest;
    if (typeof body.files !== 'object' || body.files === null || !Number.isInteger(body.epochsCompleted)) throw new Error('no file list');
  } catch (cause) {
    throw new CheckpointDamagedError(dir, CHECKPOINT_MANIFEST, `is corrupt (${(cause as Error).message})`, { cause });
  }
  for (const [rel, expected] of Object.entries(body.files)) {
    const path = join(dir, ...rel.split('/'));
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new CheckpointDamagedError(dir, rel, 'is missing');
    if (st.size !== expected.bytes) throw new CheckpointDamagedError(dir, rel, `has ${st.size} bytes, expected ${expected.bytes} (truncated or overwritten)`);
    const actual = await digest(path);
    if (actual.sha256 !== expected.sha256) throw new CheckpointDamagedError(dir, rel, 'fails its sha256 check (corrupted)');
  }
  if (body.files[STATE_JSON] === undefined) throw new CheckpointDamagedError(dir, CHECKPOINT_MANIFEST, `does not list ${STATE_JSON}`);
  return { dir, epochsCompleted: body.epochsCompleted, legacy: false };
}

async function verifyLegacy(dir: string): Promise<VerifiedCheckpoint> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_JSON), 'utf8');
  } catch {
    throw new DataNotFoundError(`${dir}: no checkpoint (missing ${STATE_JSON}); was the run started with checkpoints?`);
  }
  let state: { format?: number; epochsCompleted?: unknown };
  try {
    state = JSON.parse(text);
  } catch (cause) {
    throw new CheckpointDamagedError(dir, STATE_JSON, 'is corrupt JSON', { cause });
  }
  // A format-2 checkpoint always has a manifest: its absence means the folder is incomplete.
  if (state.format !== undefined) throw new CheckpointDamagedError(dir, CHECKPOINT_MANIFEST, 'is missing');
  if (!Number.isInteger(state.epochsCompleted)) throw new CheckpointDamagedError(dir, STATE_JSON, 'has no epochsCompleted');
  return { dir, epochsCompleted: state.epochsCompleted as number, legacy: true };
}

/** A checkpoint read back: the model (weights loaded) and the state to pass as `FitOptions.resume`. */
export interface LoadedCheckpoint {
  readonly model: tf.LayersModel;
  readonly state: TrainingState;
  /** The folder actually read. */
  readonly dir: string;
}

/**
 * Read one checkpoint folder written by {@link writeCheckpoint} (e.g. `runs/net1/checkpoints/last`),
 * verifying every file against the manifest first. If a crash hit between the two renames of a
 * swap (no `dir`), the complete previous folder (`.last.old-*`, see `findInterruptedSwap`) is read.
 * To resume a run, prefer {@link loadLatestCheckpoint}, which also falls back and cleans up.
 *
 * @throws {DataNotFoundError} when there is no checkpoint; {@link CheckpointDamagedError} (code
 * `MODEL_IO`) naming the folder and the file when one is damaged or unreadable.
 */
export async function loadCheckpoint(dirArg: string): Promise<LoadedCheckpoint> {
  let dir = resolve(dirArg);
  if (!existsSync(join(dir, STATE_JSON)) && !existsSync(join(dir, CHECKPOINT_MANIFEST))) {
    const leftover = await findInterruptedSwap(dir);
    if (leftover === undefined) {
      throw new DataNotFoundError(`${dirArg}: no checkpoint (missing ${STATE_JSON}); was the run started with checkpoints?`);
    }
    dir = leftover;
  }
  await verifyCheckpoint(dir);
  return readVerified(dir);
}

/** Read a folder that passed {@link verifyCheckpoint}; any failure is a {@link CheckpointDamagedError}. */
async function readVerified(dir: string): Promise<LoadedCheckpoint> {
  let file = STATE_JSON;
  let model: tf.LayersModel | undefined;
  try {
    const json = JSON.parse(await readFile(join(dir, STATE_JSON), 'utf8')) as {
      epochsCompleted: number;
      learningRate: number;
      momentum: number;
      optimizer: { specs: tf.io.WeightsManifestEntry[]; file: string };
      callbacks: string;
      callbacksBinary: string;
    };
    file = json.optimizer.file;
    const bin = await readFile(join(dir, file));
    const expected = json.optimizer.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (bin.byteLength !== expected) throw new Error(`has ${bin.byteLength} bytes, the specs need ${expected}`);
    file = json.callbacksBinary;
    const callbacks = decodeStates(json.callbacks, await readFile(join(dir, file)));
    file = `${MODEL_DIR}/`;
    model = await loadModel(join(dir, MODEL_DIR));
    const data = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
    return {
      dir,
      model,
      state: {
        epochsCompleted: json.epochsCompleted,
        learningRate: json.learningRate,
        momentum: json.momentum,
        optimizer: { specs: json.optimizer.specs, data },
        callbacks,
      },
    };
  } catch (cause) {
    model?.dispose();
    const reason = ((cause as Error).message ?? String(cause)).split('\n')[0];
    throw new CheckpointDamagedError(dir, file, `cannot be read: ${reason}`, { cause });
  }
}

/** Folder names of the checkpoints a run keeps, most trusted first at equal epochs. */
const KEPT = ['last', 'previous', 'best'] as const;
/** Leftovers of interrupted writes: `.last.tmp-XXXXXX` (replaceDirAtomic's temp), `.last.old-<pid>-<hex>` (its backup), and older `last.old-<pid>`. */
const LEFTOVER = /^\.?(last|previous|best)\.(tmp|old)-/;

/** Options of {@link loadLatestCheckpoint}. */
export interface LoadLatestOptions {
  /** Told about each damaged checkpoint (naming the file) and a legacy one loaded unverified. */
  readonly warn?: (message: string) => void;
}

/** What {@link loadLatestCheckpoint} returns: the loaded checkpoint and what it found on the way. */
export interface LatestCheckpoint extends LoadedCheckpoint {
  /** The damaged checkpoints found (and removed), with the file. */
  readonly damaged: readonly CheckpointDamagedError[];
  /** Crash leftovers removed (absolute paths). */
  readonly removed: readonly string[];
}

/**
 * Load the newest complete and verified checkpoint of a run from its `checkpoints/` folder,
 * whatever a crash left there, and clean up.
 *
 * Candidates: `last`, `previous` (the `last` before it), `best`, and the leftovers of interrupted
 * writes (`.<name>.tmp-*`, `.<name>.old-*`). Each is verified against its manifest; the one with
 * the most completed epochs wins (at equal epochs: `last`, `previous`, `best`, then leftovers). A
 * damaged one is reported through `warn` with its folder and file, then skipped; if reading the
 * winner fails, the next one is tried. Checkpoints written before manifests existed are used only
 * when no verified one exists (with a warning). Then it cleans up: a complete leftover of a kept
 * name (e.g. `.best.tmp-*` killed before its swap, `.best.old-*` killed between the renames)
 * replaces a missing, damaged or older folder of that name; the other leftovers and the damaged
 * checkpoints are removed.
 *
 * @param checkpointsDir e.g. `runs/net1/checkpoints`.
 * @returns the loaded checkpoint (its `dir` is where it now lies) and what was found.
 * @throws {DataNotFoundError} when there is no checkpoint at all; {@link CheckpointDamagedError}
 * (one line, naming the folder and file) when every checkpoint is damaged.
 */
export async function loadLatestCheckpoint(checkpointsDir: string, options: LoadLatestOptions = {}): Promise<LatestCheckpoint> {
  const root = resolve(checkpointsDir);
  const warn = options.warn ?? (() => undefined);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((e) => e.isDirectory() && ((KEPT as readonly string[]).includes(e.name) || LEFTOVER.test(e.name))).map((e) => e.name);
  const rank = (name: string) => {
    const i = (KEPT as readonly string[]).indexOf(name);
    return i >= 0 ? i : KEPT.length;
  };
  const good: VerifiedCheckpoint[] = [];
  const damaged: CheckpointDamagedError[] = [];
  for (const name of names) {
    try {
      good.push(await verifyCheckpoint(join(root, name)));
    } catch (err) {
      if (err instanceof CheckpointDamagedError) {
        // An unfinished temporary folder is the normal trace of a kill mid-write, not damage.
        if (!/\.tmp-/.test(name)) damaged.push(err);
      } else if (!(err instanceof DataNotFoundError)) throw err;
    }
  }
  const order = (a: VerifiedCheckpoint, b: VerifiedCheckpoint) =>
    Number(a.legacy) - Number(b.legacy) || b.epochsCompleted - a.epochsCompleted || rank(nameOf(a.dir)) - rank(nameOf(b.dir));
  good.sort(order);
  let loaded: LoadedCheckpoint | undefined;
  for (const candidate of good) {
    try {
      loaded = await readVerified(candidate.dir);
      if (candidate.legacy) warn(`checkpoint ${candidate.dir} was written before checkpoint manifests: loaded without verification`);
      break;
    } catch (err) {
      if (!(err instanceof CheckpointDamagedError)) throw err;
      damaged.push(err);
    }
  }
  for (const d of damaged) warn(`${d.message}; ${loaded ? `resuming from ${loaded.dir} (after epoch ${loaded.state.epochsCompleted}) instead` : 'no other checkpoint to fall back to'}`);
  if (loaded === undefined) {
    if (damaged.length > 0) throw damaged[0];
    throw new DataNotFoundError(`${root}: no checkpoint (no last/ or best/ with a manifest.json); was the run started with checkpoints?`);
  }
  // Clean up. Per kept name (last, previous, best): a complete leftover of it (`.best.tmp-*` killed
  // before its swap, `.best.old-*` between the renames) replaces a missing, damaged or older folder
  // of that name; every other leftover and every damaged folder is removed.
  const removed: string[] = [];
  const promoted = new Set<string>();
  const usable = good.filter((g) => !damaged.some((d) => d.dir === g.dir));
  let dir = loaded.dir;
  for (const kept of KEPT) {
    const target = join(root, kept);
    const own = usable.find((g) => g.dir === target);
    const promote = usable
      .filter((g) => nameOf(g.dir) !== kept && new RegExp(`^\\.?${kept}\\.(tmp|old)-`).test(nameOf(g.dir)))
      .sort(order)[0];
    if (promote !== undefined && (own === undefined || promote.epochsCompleted > own.epochsCompleted)) {
      await rm(target, { recursive: true, force: true });
      await rename(promote.dir, target);
      if (dir === promote.dir) dir = target;
      promoted.add(target);
    }
  }
  for (const name of names) {
    const path = join(root, name);
    const isDamaged = damaged.some((d) => d.dir === path);
    if (path !== dir && !promoted.has(path) && existsSync(path) && (LEFTOVER.test(name) || isDamaged)) {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  return { ...loaded, dir, damaged, removed };
}

function nameOf(dir: string): string {
  return relative(resolve(dir, '..'), dir).split(sep)[0];
}
