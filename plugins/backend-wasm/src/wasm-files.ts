import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { BackendInitError } from '@keypoints/core';

/** The three binaries tfjs-backend-wasm picks from (plain, SIMD, threaded SIMD). */
export const WASM_BINARY_NAMES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** Name of one of the tfjs wasm binaries. */
export type WasmBinaryName = (typeof WASM_BINARY_NAMES)[number];

/**
 * Where the `.wasm` binaries are: a directory (prefix) or one path per binary, as
 * `setWasmPaths` of `@tensorflow/tfjs-backend-wasm` takes them.
 */
export type WasmPaths = string | Readonly<Record<WasmBinaryName, string>>;

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
    first = require.resolve(`@tensorflow/tfjs-backend-wasm/dist/${WASM_BINARY_NAMES[0]}`);
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
 * Check that every binary `paths` names is a readable file. URLs (`http:`, `https:`, `data:`)
 * are not checked: only local paths can be.
 *
 * @throws {BackendInitError} naming each missing file and the remedy.
 */
export function checkWasmPaths(paths: WasmPaths): void {
  const files =
    typeof paths === 'string'
      ? WASM_BINARY_NAMES.map((name) => ({ name, path: paths + name }))
      : WASM_BINARY_NAMES.map((name) => ({ name, path: paths[name] }));
  const missing = files.filter(({ path }) => {
    if (path === undefined) return true;
    if (/^(https?|data|blob):/i.test(path)) return false;
    const local = path.startsWith('file:') ? new URL(path) : path;
    return !existsSync(local) || !statSync(local).isFile();
  });
  if (missing.length === 0) return;
  throw new BackendInitError(
    'wasm',
    `missing .wasm binaries: ${missing.map((m) => m.path ?? `${m.name} (no entry in wasmPaths)`).join(', ')}; ` +
      (typeof paths === 'string' && !paths.endsWith('/') && !paths.endsWith('\\')
        ? `wasmPaths '${paths}' is a prefix and needs a trailing '/'; `
        : '') +
      `point wasmPaths at a folder holding ${WASM_BINARY_NAMES.join(', ')}, or ${REINSTALL}`,
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
