import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendInitError } from '@keypoints/core';

/** The three binaries tfjs-backend-wasm ships (plain, SIMD, threaded SIMD); this backend loads the last. */
export const WASM_BINARY_NAMES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** The binary this backend loads: XNNPACK with SIMD and threads (also used with one thread). */
export const THREADED_SIMD_BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';

/** Name of one of the tfjs wasm binaries. */
export type WasmBinaryName = (typeof WASM_BINARY_NAMES)[number];

/**
 * Where the `.wasm` binaries are: a directory (prefix) or one path per binary, as
 * `setWasmPaths` of `@tensorflow/tfjs-backend-wasm` takes them.
 */
export type WasmPaths = string | Readonly<Partial<Record<WasmBinaryName, string>>>;

const REINSTALL =
  'reinstall it (`npm install @tensorflow/tfjs-backend-wasm@4.22.0`), or pick another backend (`--backend cpu`)';

/**
 * Locate the `.wasm` binaries shipped in `@tensorflow/tfjs-backend-wasm/dist`, resolved from
 * this package through Node's resolver.
 *
 * @returns the directory, with a trailing separator (tfjs concatenates prefix and file name).
 * @throws {BackendInitError} when the package or one of its binaries cannot be found.
 */
export function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  let first: string;
  try {
    first = require.resolve(`@tensorflow/tfjs-backend-wasm/dist/${THREADED_SIMD_BINARY}`);
  } catch (error) {
    throw new BackendInitError(
      'wasm',
      `cannot find the .wasm binaries of @tensorflow/tfjs-backend-wasm (${(error as Error).message.split('\n')[0]}); ${REINSTALL}`,
      { cause: error },
    );
  }
  const dir = `${dirname(first)}/`;
  checkWasmPaths(dir);
  return dir;
}

/**
 * Local file path of the threaded-SIMD binary that `paths` names (plain path or `file:` URL);
 * `undefined` when `paths` has no entry for it or names a remote URL (Node loads local files only).
 */
export function threadedSimdFile(paths: WasmPaths): string | undefined {
  const path = typeof paths === 'string' ? paths + THREADED_SIMD_BINARY : paths[THREADED_SIMD_BINARY];
  if (path === undefined) return undefined;
  if (/^file:/i.test(path)) return fileURLToPath(path);
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return undefined;
  return path;
}

/**
 * Check that the threaded-SIMD binary `paths` names (`tfjs-backend-wasm-threaded-simd.wasm`, the
 * only one this backend loads, also for one thread) is a readable local file.
 *
 * @throws {BackendInitError} naming the missing file and the remedy.
 */
export function checkWasmPaths(paths: WasmPaths): void {
  const file = threadedSimdFile(paths);
  if (file !== undefined && existsSync(file) && statSync(file).isFile()) return;
  const named = typeof paths === 'string' ? paths + THREADED_SIMD_BINARY : paths[THREADED_SIMD_BINARY];
  throw new BackendInitError(
    'wasm',
    `missing .wasm binary: ${named ?? `${THREADED_SIMD_BINARY} (no entry in wasmPaths)`}` +
      (named !== undefined && file === undefined ? ' (not a local file: Node loads local files only)' : '') +
      '; ' +
      (typeof paths === 'string' && !paths.endsWith('/') && !paths.endsWith('\\')
        ? `wasmPaths '${paths}' is a prefix and needs a trailing '/'; `
        : '') +
      `point wasmPaths at a local folder holding ${THREADED_SIMD_BINARY}, or ${REINSTALL}`,
  );
}

/**
 * A prefix that names an existing folder gets the trailing `/` tfjs needs (it concatenates
 * prefix and file name); anything else is returned unchanged.
 */
export function normalizeWasmPaths(paths: WasmPaths): WasmPaths {
  if (typeof paths !== 'string' || paths.endsWith('/') || paths.endsWith('\\')) return paths;
  if (/^[a-z][a-z0-9+.-]*:/i.test(paths) && !/^[a-z]:[\\/]/i.test(paths)) return paths;
  return existsSync(paths) && statSync(paths).isDirectory() ? `${paths}/` : paths;
}
