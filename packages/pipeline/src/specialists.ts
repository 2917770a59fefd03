/**
 * Nouri 2014, specialists: six CNNs, one per keypoint group (kfkd.py `SPECIALIST_SETTINGS`), each
 * initialised from a pre-trained full net (supervised pre-training) and trained on the rows that have
 * its group's columns. The six trainings are independent, so they run in parallel child processes
 * (one tfjs backend each, `workers × threadsPerWorker ≤ cores`), and the result is a manifest,
 * `<out>/specialists.json`, that the ensemble reads.
 */
import { fork } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, DataNotFoundError, SPECIALIST_KEYPOINT_SETS, isKeypointsError, parseJsonText } from '@keypoints/core';
import { type TrainConfig, type TrainConfigInput } from './config.js';
import {
  SPECIALISTS_MANIFEST,
  writeSpecialistsManifest,
  type SpecialistEntry,
  type SpecialistStatus,
  type SpecialistsManifest,
} from './specialists-manifest.js';
import { SpecialistsProgress } from './specialists.progress.js';
import { readRunConfig } from './run-config.js';

/** The six specialist group names, in {@link SPECIALIST_KEYPOINT_SETS} order (Nouri 2014, specialists). */
export const SPECIALIST_NAMES: readonly string[] = SPECIALIST_KEYPOINT_SETS.map((s) => s.name);

/** What one worker process trains: `trainRun(input)` for one group. */
export interface SpecialistJob {
  /** Group name, e.g. `eye_center`. */
  readonly name: string;
  /** The `trainRun` input: the pretrained run's settings with `keypoints`, `pretrained`, `threads`, `out`. */
  readonly input: TrainConfigInput;
}

/**
 * Messages a specialist worker sends to its parent over IPC (`process.send`), one line of JSON each.
 * RMSE values are validation/training RMSE in pixels; `epoch` is 1-based (epochs completed).
 */
export type SpecialistMessage =
  | { readonly type: 'start'; readonly name: string; readonly epochs: number; readonly initialEpoch: number; readonly trainCount: number; readonly validationCount: number }
  | { readonly type: 'epoch'; readonly name: string; readonly epoch: number; readonly epochs: number; readonly trainRmsePx: number; readonly validRmsePx: number; readonly bestValidRmsePx: number }
  | {
      readonly type: 'end';
      readonly name: string;
      /** The fit's status: `completed`, `stopped` (early stopping) or `cancelled`. */
      readonly status: string;
      readonly stopReason?: string;
      readonly epochs: number;
      readonly bestValidRmsePx: number;
      readonly trainSeconds: number;
      readonly runDir: string;
    }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly code?: string };

export type { SpecialistStatus, SpecialistEntry, SpecialistsManifest } from './specialists-manifest.js';

/** Options of {@link trainSpecialists}. */
export interface TrainSpecialistsOptions {
  /** Pretrained run directory (a full-set run with `config.json` and `model/`), e.g. `runs/net6`. Required. */
  readonly pretrained: string;
  /** Output folder; each specialist goes to `<out>/<group>/`. Default `runs/specialists`. */
  readonly out?: string;
  /** Parallel worker processes; default `min(6, cores, number of specialists)`. */
  readonly workers?: number;
  /** wasm threads per worker; default `max(1, floor(cores / workers))`. */
  readonly threadsPerWorker?: number;
  /** Allow `workers × threadsPerWorker > cores` (oversubscription). */
  readonly force?: boolean;
  /** Maximum epochs; default trainRun's for a specialist (kfkd.py: `round(4e6 / rows)`). */
  readonly epochs?: number;
  /** Early-stopping patience; default trainRun's for a specialist, 200 (kfkd.py). */
  readonly patience?: number;
  /**
   * Wall-time budget of **each** specialist, minutes (`--max-time`, see `TrainConfig.maxTime`): it stops
   * at the epoch end where the budget runs out and keeps its best epoch. Default none (only `epochs` and
   * early stopping end it). Never inherited from the pretrained run, whose budget was for the full net.
   */
  readonly maxTime?: number;
  /** Train only these groups (names from {@link SPECIALIST_NAMES}); default all six. */
  readonly only?: readonly string[];
  /** Backend name (`wasm`, `cpu`, `node`, `node-gpu`); default the chain. */
  readonly backend?: string;
  /** Read only the first rows of the data file; default the pretrained run's. */
  readonly maxRows?: number;
  /** Mini-batch size; default the pretrained run's. */
  readonly batchSize?: number;
  /** Write `<out>/specialists.json`; default true. */
  readonly manifest?: boolean;
  /** Show the six progresses on `stream` (bars on a terminal, log lines otherwise); default true. */
  readonly progress?: boolean;
  /** Where progress goes; default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Observer of every worker message. */
  readonly onMessage?: (message: SpecialistMessage) => void;
  /** Cancels: queued specialists do not start, running ones stop after their epoch and keep their outputs. */
  readonly signal?: AbortSignal;
  /** Number of cores; default `os.availableParallelism()`. */
  readonly cores?: number;
  /** @internal Worker module and extra environment (tests). */
  readonly worker?: { readonly module?: string; readonly env?: Readonly<Record<string, string>> };
}

/** What {@link trainSpecialists} returns. */
export interface TrainSpecialistsResult {
  readonly manifest: SpecialistsManifest;
  /** Absolute path of `specialists.json` (also when not written). */
  readonly manifestPath: string;
  /** Names of the specialists that did not complete (failed or cancelled). */
  readonly failed: readonly string[];
}

/**
 * Worker count and threads per worker for `jobs` specialists on `cores` cores.
 * Defaults: `workers = min(6, cores, jobs)`, `threads = max(1, floor(cores / workers))`.
 *
 * @throws {ConfigError} when a value is not a positive integer, or `workers × threads > cores`
 * without `force`.
 */
export function resolveWorkerThreads(options: { workers?: number; threadsPerWorker?: number; cores: number; jobs?: number; force?: boolean }): {
  workers: number;
  threadsPerWorker: number;
} {
  const { cores, force = false } = options;
  const jobs = options.jobs ?? SPECIALIST_NAMES.length;
  for (const [flag, v] of [['--workers', options.workers], ['--threads', options.threadsPerWorker]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ConfigError(`${flag}: expected a positive integer, got ${v}`);
  }
  const workers = options.workers ?? Math.max(1, Math.min(6, cores, jobs));
  const threadsPerWorker = options.threadsPerWorker ?? Math.max(1, Math.floor(cores / workers));
  if (workers * threadsPerWorker > cores && !force) {
    throw new ConfigError(
      `--workers ${workers} × --threads ${threadsPerWorker} = ${workers * threadsPerWorker} threads, but this machine has ${cores} cores; ` +
        `expected workers × threads ≤ ${cores} (lower --workers or --threads, or pass --force to oversubscribe)`,
    );
  }
  return { workers, threadsPerWorker };
}

/**
 * The specialist groups to train, in {@link SPECIALIST_NAMES} order.
 * @throws {ConfigError} on an unknown or empty list.
 */
export function resolveSpecialistNames(only?: readonly string[]): string[] {
  if (only === undefined) return [...SPECIALIST_NAMES];
  const unknown = only.filter((n) => !SPECIALIST_NAMES.includes(n));
  if (unknown.length > 0) throw new ConfigError(`--only: unknown specialist ${unknown.map((n) => `'${n}'`).join(', ')}; expected some of ${SPECIALIST_NAMES.join(', ')}`);
  if (only.length === 0) throw new ConfigError(`--only: expected at least one of ${SPECIALIST_NAMES.join(', ')}`);
  return SPECIALIST_NAMES.filter((n) => only.includes(n));
}

/**
 * Run `task` on every item with at most `concurrency` running at once (a simple queue, in order).
 * A rejected task does not stop the others; the result has one settled outcome per item.
 * Items not started when `signal` aborts settle as rejected with an `AbortError`.
 */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<R>[]> {
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new ConfigError(`pool: concurrency must be a positive integer, got ${concurrency}`);
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      if (signal?.aborted) {
        results[i] = { status: 'rejected', reason: new DOMException('cancelled before it started', 'AbortError') };
        continue;
      }
      try {
        results[i] = { status: 'fulfilled', value: await task(items[i], i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** How one worker process ended. */
export interface WorkerOutcome {
  readonly name: string;
  readonly status: SpecialistStatus;
  /** The worker's `end` message, when it sent one. */
  readonly end?: Extract<SpecialistMessage, { type: 'end' }>;
  readonly error?: string;
  /** Last epoch reported (1-based) and best validation RMSE seen (px), for a worker that failed. */
  readonly epochs: number;
  readonly bestValidRmsePx: number;
  /** Wall time of the process, seconds. */
  readonly seconds: number;
  /** Where its stdout/stderr went. */
  readonly log: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Running from the TypeScript sources (inside the monorepo, under tsx or vitest) rather than the compiled `dist/`. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const DEFAULT_WORKER = join(here, FROM_SOURCES ? 'specialist.worker.ts' : 'specialist.worker.js');

/**
 * Node flags of a worker: none for the compiled package; from the sources, tsx's loader and the
 * `@keypoints/source` export condition, so the child runs the same TypeScript as its parent.
 */
function workerExecArgv(): string[] {
  if (!FROM_SOURCES) return [];
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--conditions=@keypoints/source', '--import', pathToFileURL(loader).href];
}

/**
 * Fork one worker process for `job` and wait for it to exit. Never rejects: a crash, a non-zero exit
 * or an `error` message gives status `failed` with the reason and the log file (`logFile`, the
 * child's stdout and stderr).
 */
export function runSpecialistWorker(
  job: SpecialistJob,
  options: { logFile: string; threads: number; onMessage?: (m: SpecialistMessage) => void; signal?: AbortSignal; module?: string; env?: Readonly<Record<string, string>> },
): Promise<WorkerOutcome> {
  const t0 = performance.now();
  return new Promise((done) => {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    let tail = '';
    let end: Extract<SpecialistMessage, { type: 'end' }> | undefined;
    let error: string | undefined;
    let epochs = 0;
    let best = NaN;
    const child = fork(options.module ?? DEFAULT_WORKER, [JSON.stringify(job)], {
      execArgv: workerExecArgv(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: {
        ...process.env,
        // From the sources: the workspace's compiler options (decorators) whatever the current directory.
        ...(FROM_SOURCES ? { TSX_TSCONFIG_PATH: resolve(here, '../../../tsconfig.base.json') } : {}),
        // tfjs-node / libtensorflow thread pools, sized like the wasm threads.
        TF_NUM_INTRAOP_THREADS: String(options.threads),
        TF_NUM_INTEROP_THREADS: '1',
        OMP_NUM_THREADS: String(options.threads),
        ...options.env,
      },
    });
    const onOutput = (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-2000);
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    const cancel = () => {
      // With a callback, a closed channel (the child is exiting) is not an 'error' event.
      if (child.connected) child.send({ type: 'cancel' }, () => undefined);
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.on('message', (raw) => {
      const m = raw as SpecialistMessage;
      if (m.type === 'epoch') {
        epochs = m.epoch;
        best = m.bestValidRmsePx;
      } else if (m.type === 'end') {
        end = m;
      } else if (m.type === 'error') {
        error = m.code ? `${m.code}: ${m.message}` : m.message;
      }
      options.onMessage?.(m);
    });
    let settled = false;
    const finish = (code: number | null, signalName: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', cancel);
      log.end();
      const seconds = (performance.now() - t0) / 1000;
      const base = { name: job.name, epochs, bestValidRmsePx: best, seconds, log: options.logFile };
      if (end && code === 0 && !spawnError) {
        const status: SpecialistStatus = end.status === 'cancelled' ? 'cancelled' : 'completed';
        done({ ...base, status, end, epochs: end.epochs, bestValidRmsePx: end.bestValidRmsePx });
        return;
      }
      const why =
        spawnError?.message ??
        error ??
        (signalName ? `worker killed by ${signalName}` : `worker exited with code ${code}${tail.trim() ? `: ${lastLines(tail, 3)}` : ''}`);
      done({ ...base, status: 'failed', error: why, ...(end ? { end } : {}) });
    };
    // 'error' without a pid: the process could not be spawned (no 'close' follows).
    child.on('error', (err) => child.pid === undefined && finish(null, null, err));
    // 'close': the process exited and its stdout/stderr are drained (the last lines of a crash).
    child.on('close', (code, signalName) => finish(code, signalName));
  });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/**
 * The `trainRun` input of one specialist: the pretrained run's model preset and settings (dense,
 * dropout, padding, data, missing-keypoint handling, split, seed, flips, schedules, learning rate,
 * momentum, batch size), with the group, the pretrained folder, the threads, and this run's epochs /
 * patience / time budget / backend / output folder. Without `epochs` / `patience`, trainRun's specialist
 * defaults apply (kfkd.py: round(4e6 / rows) epochs, patience 200); the pretrained run's `maxTime` is not
 * inherited (only `o.maxTime` gives a specialist a budget).
 */
export function specialistInput(
  name: string,
  pretrained: { dir: string; config: TrainConfig },
  o: { out: string; threads: number; epochs?: number; patience?: number; maxTime?: number; backend?: string; maxRows?: number; batchSize?: number },
): SpecialistJob['input'] {
  // Every setting of the pretrained run except what names and places that run, and what this run sets.
  const { name: _name, keypoints: _keypoints, pretrained: _pretrained, epochs: _epochs, patience: _patience, maxTime: _maxTime, backend: _backend, threads: _threads, out: _out, ...inherited } =
    pretrained.config;
  const maxRows = o.maxRows ?? inherited.maxRows;
  return {
    ...inherited,
    name,
    keypoints: name,
    pretrained: pretrained.dir,
    ...(maxRows ? { maxRows } : {}),
    ...(o.epochs ? { epochs: o.epochs } : {}),
    batchSize: o.batchSize ?? inherited.batchSize,
    ...(o.patience ? { patience: o.patience } : {}),
    ...(o.maxTime ? { maxTime: o.maxTime } : {}),
    ...(o.backend ? { backend: o.backend } : {}),
    threads: o.threads,
    out: join(o.out, name),
  };
}

/**
 * Read a pretrained run directory: its validated `config.json` and a check that `model/` exists.
 * @throws {DataNotFoundError} when it is not a run directory or has no `model/model.json`;
 * {@link ConfigError} when its config is invalid.
 */
export async function readPretrained(dir: string): Promise<{ dir: string; config: TrainConfig }> {
  const abs = resolve(dir);
  let config: TrainConfig;
  try {
    config = await readRunConfig(abs);
  } catch (err) {
    if (!isKeypointsError(err, 'DATA_NOT_FOUND')) throw err;
    throw new DataNotFoundError(
      `--pretrained ${dir}: not a run directory (no config.json); expected a finished full-set run, e.g. train one with ` +
        `'npx nx run experiments:net6' or 'keypoints train --model net6'`,
      { cause: err },
    );
  }
  if (!existsSync(join(abs, 'model', 'model.json'))) {
    throw new DataNotFoundError(`--pretrained ${dir}: no model/model.json (the run has not finished; expected a completed run such as runs/net6)`);
  }
  return { dir: abs, config };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function entryOf(name: string, o: WorkerOutcome): SpecialistEntry {
  const columns = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === name)!.columns;
  const best = Number.isFinite(o.bestValidRmsePx) ? o.bestValidRmsePx : null;
  return {
    name,
    runDir: name,
    columns,
    status: o.status,
    epochs: o.epochs,
    bestValidRmsePx: best,
    trainSeconds: round1(o.end?.trainSeconds ?? o.seconds),
    ...(o.end?.stopReason ? { stopReason: o.end.stopReason } : o.status === 'cancelled' && o.error ? { stopReason: o.error } : {}),
    ...(o.status === 'failed' ? { error: `${o.error ?? 'unknown error'} (log: ${o.log})` } : {}),
  };
}

/**
 * Train the specialists (Nouri 2014, specialists) in parallel worker processes, pre-trained from
 * `options.pretrained`: one forked Node process per group (at most `workers` at a time), each with
 * its own backend and `threadsPerWorker` wasm threads, each writing a normal run directory
 * `<out>/<group>/` (config.json, history, metrics.json, model/, checkpoints/) and its log
 * `<out>/<group>/worker.log`. A failed worker does not stop the others. When all have ended,
 * writes `<out>/specialists.json` ({@link SpecialistsManifest}) atomically.
 *
 * @returns the manifest and the names that did not complete (the CLI exits non-zero when any).
 * @throws {ConfigError} on bad options (unknown group, workers × threads > cores without `force`);
 * {@link DataNotFoundError} when `pretrained` is not a finished run directory.
 */
export async function trainSpecialists(options: TrainSpecialistsOptions): Promise<TrainSpecialistsResult> {
  if (!options.pretrained) throw new ConfigError('--pretrained: expected a pretrained run directory, e.g. runs/net6');
  const names = resolveSpecialistNames(options.only);
  const cores = options.cores ?? availableParallelism();
  const { workers, threadsPerWorker } = resolveWorkerThreads({
    workers: options.workers,
    threadsPerWorker: options.threadsPerWorker,
    cores,
    jobs: names.length,
    force: options.force,
  });
  const pretrained = await readPretrained(options.pretrained);
  const out = resolve(options.out ?? join('runs', 'specialists'));
  const jobs: SpecialistJob[] = names.map((name) => ({
    name,
    input: specialistInput(name, pretrained, { ...options, out, threads: threadsPerWorker }),
  }));
  for (const job of jobs) await mkdir(join(out, job.name), { recursive: true });

  const progress =
    options.progress === false
      ? undefined
      : new SpecialistsProgress(
          names,
          options.stream ?? process.stderr,
          `specialists: ${names.join(', ')} pre-trained from ${pretrained.dir} (${pretrained.config.model}); ` +
            `${plural(workers, 'worker')} × ${plural(threadsPerWorker, 'thread')} on ${cores} cores → ${out}`,
        );
  const t0 = performance.now();
  let settled: PromiseSettledResult<WorkerOutcome>[];
  try {
    settled = await runPool(
      jobs,
      workers,
      (job) => {
        progress?.starting(job.name);
        return runSpecialistWorker(job, {
          logFile: join(out, job.name, 'worker.log'),
          threads: threadsPerWorker,
          onMessage: (m) => {
            progress?.update(m);
            options.onMessage?.(m);
          },
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.worker?.module ? { module: options.worker.module } : {}),
          ...(options.worker?.env ? { env: options.worker.env } : {}),
        }).then((o) => {
          progress?.ended(o);
          return o;
        });
      },
      options.signal,
    );
  } finally {
    progress?.stop();
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const outcomes: WorkerOutcome[] = settled.map((s, i) => {
    if (s.status === 'fulfilled') return s.value;
    const base = { name: jobs[i].name, epochs: 0, bestValidRmsePx: NaN, seconds: 0, log: join(out, jobs[i].name, 'worker.log') };
    // Not started (the signal aborted while it was queued), or the fork itself threw.
    const aborted = s.reason instanceof Error && s.reason.name === 'AbortError';
    return aborted
      ? { ...base, status: 'cancelled', error: 'cancelled before it started' }
      : { ...base, status: 'failed', error: `could not start the worker: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}` };
  });
  const specialists = outcomes.map((o) => entryOf(o.name, o));
  const manifest = manifestOf({ pretrained: pretrained.dir, workers, threadsPerWorker, wallSeconds }, specialists);
  return finishManifest(out, manifest, options.manifest !== false);
}

/** The manifest of `specialists`, with their summed (sequential) train time. */
function manifestOf(
  run: { pretrained: string; workers: number; threadsPerWorker: number; wallSeconds: number; assembled?: true },
  specialists: SpecialistEntry[],
): SpecialistsManifest {
  return {
    kind: 'specialists',
    pretrained: run.pretrained,
    workers: run.workers,
    threadsPerWorker: run.threadsPerWorker,
    wallSeconds: round1(run.wallSeconds),
    sequentialSeconds: round1(specialists.reduce((s, e) => s + e.trainSeconds, 0)),
    ...(run.assembled ? { assembled: true } : {}),
    specialists,
  };
}

/** Write `<out>/specialists.json` atomically (unless `write` is false) and name the specialists that did not complete. */
async function finishManifest(out: string, manifest: SpecialistsManifest, write: boolean): Promise<TrainSpecialistsResult> {
  const manifestPath = join(out, SPECIALISTS_MANIFEST);
  if (write) await writeSpecialistsManifest(out, manifest);
  return { manifest, manifestPath, failed: manifest.specialists.filter((s) => s.status !== 'completed').map((s) => s.name) };
}

/**
 * Build `<out>/specialists.json` from specialist run directories trained separately (e.g. by the six
 * `experiments:specialist-*` nx targets, possibly on other machines), reading each
 * `<out>/<group>/metrics.json`. Groups without a run directory are left out. `wallSeconds` is the
 * longest `trainSeconds` (all at once), `workers` the number found, `threadsPerWorker` from their
 * config (0 when unknown); `assembled: true`.
 *
 * @throws {DataNotFoundError} when no specialist run is found; {@link ConfigError} when a run was
 * pre-trained from another directory than `pretrained`.
 */
export async function assembleSpecialistsManifest(options: { pretrained: string; out?: string; only?: readonly string[] }): Promise<TrainSpecialistsResult> {
  const out = resolve(options.out ?? join('runs', 'specialists'));
  const pretrained = resolve(options.pretrained);
  const specialists: SpecialistEntry[] = [];
  let threads = 0;
  for (const name of resolveSpecialistNames(options.only)) {
    const dir = join(out, name);
    if (!existsSync(join(dir, 'metrics.json'))) continue;
    const metrics = parseJsonText(await readFile(join(dir, 'metrics.json'), 'utf8'), join(dir, 'metrics.json'), "a run's metrics object") as Record<string, unknown>;
    const config = parseJsonText(await readFile(join(dir, 'config.json'), 'utf8'), join(dir, 'config.json'), "a run's settings object") as Record<string, unknown>;
    if (typeof config.pretrained === 'string' && resolve(config.pretrained) !== pretrained) {
      throw new ConfigError(`${dir}: pre-trained from ${config.pretrained}, expected ${pretrained} (retrain it, or pass that --pretrained)`);
    }
    if (typeof config.threads === 'number') threads = Math.max(threads, config.threads);
    const fit = String(metrics.status);
    const best = Number(metrics.bestValidRmsePx);
    specialists.push({
      name,
      runDir: name,
      columns: SPECIALIST_KEYPOINT_SETS.find((s) => s.name === name)!.columns,
      status: fit === 'completed' || fit === 'stopped' ? 'completed' : fit === 'cancelled' ? 'cancelled' : 'failed',
      epochs: Number(metrics.epochs),
      bestValidRmsePx: Number.isFinite(best) ? best : null,
      trainSeconds: Number(metrics.trainSeconds),
      ...(typeof metrics.stopReason === 'string' ? { stopReason: metrics.stopReason } : {}),
    });
  }
  if (specialists.length === 0) {
    throw new DataNotFoundError(`${out}: no specialist run directories (<group>/metrics.json); expected some of ${SPECIALIST_NAMES.join(', ')}`);
  }
  const wallSeconds = Math.max(...specialists.map((s) => s.trainSeconds));
  const manifest = manifestOf({ pretrained, workers: specialists.length, threadsPerWorker: threads, wallSeconds, assembled: true }, specialists);
  return finishManifest(out, manifest, true);
}

/** A Markdown-style summary table of a manifest, with the wall time next to the sequential time. */
export function formatSpecialistsSummary(manifest: SpecialistsManifest, manifestPath?: string): string {
  const rows = manifest.specialists.map(
    (s) =>
      `| ${s.name.padEnd(21)} | ${s.status.padEnd(9)} | ${String(s.epochs).padStart(6)} | ${(s.bestValidRmsePx === null ? '-' : s.bestValidRmsePx.toFixed(3)).padStart(20)} | ${s.trainSeconds.toFixed(1).padStart(9)} |` +
      (s.error ? ` ${s.error}` : s.stopReason ? ` ${s.stopReason}` : ''),
  );
  const speedup = manifest.wallSeconds > 0 ? manifest.sequentialSeconds / manifest.wallSeconds : NaN;
  return [
    `| ${'specialist'.padEnd(21)} | status    | epochs | best valid RMSE (px) | train (s) |`,
    `| ${'-'.repeat(21)} | --------- | -----: | ${'-'.repeat(19)}: | --------: |`,
    ...rows,
    '',
    `wall time ${manifest.wallSeconds.toFixed(1)} s` +
      (manifest.assembled ? ' (longest run; assembled from separate runs)' : ` with ${plural(manifest.workers, 'worker')} × ${plural(manifest.threadsPerWorker, 'thread')}`) +
      `; sequential (sum of train times) ${manifest.sequentialSeconds.toFixed(1)} s` +
      (Number.isFinite(speedup) && !manifest.assembled && manifest.workers > 1 && manifest.specialists.length > 1 ? `; speed-up ${speedup.toFixed(2)}×` : ''),
    ...(manifestPath ? [`manifest: ${manifestPath}`] : []),
  ].join('\n');
}
