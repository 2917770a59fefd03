/**
 * `@keypoints/test-support`: the one place that knows where the project's real shared data lives,
 * for tests and test helpers only (a private workspace package, a devDependency; never imported by a
 * published file).
 *
 * The shared folder (the one holding `data/`) is, in order:
 * 1. `$KEYPOINTS_SHARED_DIR` when set (then it is the only candidate);
 * 2. `<repo>/../shared` (the dev checkout sits beside it);
 * 3. `<repo>/shared`.
 *
 * A fresh clone has none of them: tests that read real data skip, with a one-line notice naming the
 * missing path and the variable. With `KEYPOINTS_REQUIRE_SHARED=1` (set by `.ci/run` when the data
 * is there) a missing file is an error instead, so CI cannot silently skip them.
 *
 * @example
 * const shared = sharedData({ files: ['kaggle/IdLookupTable.csv'] });
 * describe.skipIf(!shared.available)('submission', () => {
 *   it('reads the lookup table', () => readFileSync(shared.path('kaggle/IdLookupTable.csv')));
 * });
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names the shared folder (the one holding `data/`); overrides the lookup beside/inside the repository. */
export const SHARED_DIR_ENV = 'KEYPOINTS_SHARED_DIR';
/** When `1`, a test whose shared data is absent fails instead of skipping (CI sets it). */
export const REQUIRE_SHARED_ENV = 'KEYPOINTS_REQUIRE_SHARED';

/** The repository root (this file is `<repo>/tools/test-support/src/index.ts`). */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the shared folder is and which rule found it. */
export interface SharedDir {
  /** Absolute path of the shared folder (holds `data/`); the first candidate when none exists. */
  readonly dir: string;
  /** The rule: the environment variable, beside the repository, or inside it. */
  readonly from: typeof SHARED_DIR_ENV | '<repo>/../shared' | '<repo>/shared';
}

/**
 * The shared folder by the rule above. Does not check the files a test needs ({@link sharedData} does).
 * A candidate counts when its `data/` folder exists; with none, the answer is `<repo>/../shared`.
 */
export function sharedDir(): SharedDir {
  const env = process.env[SHARED_DIR_ENV];
  if (env !== undefined && env !== '') return { dir: resolve(env), from: SHARED_DIR_ENV };
  const beside = resolve(REPO_ROOT, '..', 'shared');
  const inside = resolve(REPO_ROOT, 'shared');
  if (!existsSync(join(beside, 'data')) && existsSync(join(inside, 'data'))) return { dir: inside, from: '<repo>/shared' };
  return { dir: beside, from: '<repo>/../shared' };
}

/** `<shared>/data/<segments…>`: an absolute path inside the shared data folder (not checked). */
export function sharedDataPath(...segments: string[]): string {
  return join(sharedDir().dir, 'data', ...segments);
}

/** Options of {@link sharedData}. */
export interface SharedDataOptions {
  /** Paths relative to `<shared>/data` that the test reads; default: the `data/` folder itself. */
  readonly files?: readonly string[];
  /** Who needs the data, for the notice; default: the calling file's name. */
  readonly label?: string;
  /** What is skipped, for the notice; default `tests that read real shared data`. */
  readonly what?: string;
}

/** The answer of {@link sharedData}. */
export interface SharedData {
  /** True when every requested file exists. */
  readonly available: boolean;
  /** The shared folder (holds `data/`). */
  readonly dir: string;
  /** `<shared>/data`. */
  readonly dataDir: string;
  /** Absolute paths of the requested files that do not exist (empty when available). */
  readonly missing: readonly string[];
  /** Why the tests skip ('' when available): the missing path and the variable to set. */
  readonly reason: string;
  /** `<shared>/data/<segments…>` (absolute). */
  path(...segments: string[]): string;
}

/**
 * Checks that the shared data a test file needs is there. When it is not, prints one notice
 * (`console.warn`) naming the missing path and {@link SHARED_DIR_ENV}, and returns
 * `available: false` for `describe.skipIf(!shared.available)` / `it.skipIf(…)`.
 *
 * @throws Error when the data is absent and `KEYPOINTS_REQUIRE_SHARED=1`: the test file then fails
 *   (at collection) instead of skipping, so CI notices.
 */
export function sharedData(options: SharedDataOptions = {}): SharedData {
  const { dir, from } = sharedDir();
  const dataDir = join(dir, 'data');
  const wanted = options.files?.length ? options.files.map((f) => (isAbsolute(f) ? f : join(dataDir, f))) : [dataDir];
  const missing = wanted.filter((f) => !existsSync(f));
  const label = options.label ?? callerFile() ?? 'test';
  const what = options.what ?? 'tests that read real shared data';
  const shown = missing.length === 1 ? missing[0] : `${missing[0]} (and ${missing.length - 1} more)`;
  const reason =
    missing.length === 0
      ? ''
      : `${shown} not found (shared folder ${dir}, from ${from}); set ${SHARED_DIR_ENV} to the folder holding data/`;
  const answer: SharedData = {
    available: missing.length === 0,
    dir,
    dataDir,
    missing,
    reason,
    path: (...segments) => join(dataDir, ...segments),
  };
  if (missing.length > 0) {
    if (process.env[REQUIRE_SHARED_ENV] === '1') {
      throw new Error(`${label}: ${REQUIRE_SHARED_ENV}=1 but the shared data is absent: ${reason}.`);
    }
    console.warn(`${label}: skipped ${what}: ${reason} (${REQUIRE_SHARED_ENV}=1 makes this a failure).`);
  }
  return answer;
}

/** The repository-relative path of the first stack frame outside this file and test helpers (`test-*.ts`), if any. */
function callerFile(): string | undefined {
  const self = fileURLToPath(import.meta.url);
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (file === self || /(^|\/)test-[^/]*\.ts$/.test(file)) continue; // this file, test helpers
    if (file.includes('node_modules')) continue;
    return relative(REPO_ROOT, file);
  }
  return undefined;
}
