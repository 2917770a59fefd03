import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, isKeypointsError } from '@keypoints/core';
import { CALLBACK_HOOKS, type CallbackPluginFactory, type CallbackPluginOptions, type TrainingCallback } from '@keypoints/training';

/** Options of {@link loadCallbackPlugin} beyond the factory's. */
export interface LoadCallbackPluginOptions {
  /** Folder a relative path is resolved against; default `process.cwd()`. */
  readonly cwd?: string;
}

/** A path (`./x.mjs`, `../x.js`, `/abs/x.mjs`, `file:` URL), as opposed to a package name. */
function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || specifier.startsWith('file:') || /^[A-Za-z]:[\\/]/.test(specifier);
}

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return (e.message ?? '').includes(specifier);
  return /Cannot find (package|module)|Failed to (load|resolve)/.test(e?.message ?? '') && (e?.message ?? '').includes(specifier);
}

/**
 * Load a callback plugin module and run its factory: `specifier` is a path (relative to `cwd`, or
 * absolute) or a package name (resolved like an import from `@keypoints/pipeline`, i.e. a package
 * installed in the same project). The module's `default` export — or else its `createCallback`
 * export — must be a {@link CallbackPluginFactory}: it gets `options` (run directory, config,
 * logger) and returns a callback or an array of callbacks (possibly through a promise).
 *
 * @example
 * ```ts
 * const callbacks = await loadCallbackPlugin('./my-plugin.mjs', { runDir, config, logger: consoleLogger });
 * ```
 * @returns the plugin's callbacks (at least one).
 * @throws {ConfigError} with a one-line message naming `specifier`: module not found (with the
 * resolved path); no `default` / `createCallback` function export (listing the exports it has);
 * the factory returned something that is not a callback (listing the allowed hook names); a module
 * that fails while loading (the cause attached).
 */
export async function loadCallbackPlugin(
  specifier: string,
  options: CallbackPluginOptions,
  loadOptions: LoadCallbackPluginOptions = {},
): Promise<TrainingCallback[]> {
  return callbacksFromPlugin(specifier, await importCallbackPlugin(specifier, loadOptions), options);
}

/**
 * The first half of {@link loadCallbackPlugin}: import the module and find its factory (so a run can
 * fail fast on a bad `--callback` before it loads data).
 * @throws {ConfigError} module not found, load failure, or no factory export.
 */
export async function importCallbackPlugin(specifier: string, loadOptions: LoadCallbackPluginOptions = {}): Promise<CallbackPluginFactory> {
  const where = `callback plugin '${specifier}'`;
  let url = specifier;
  if (isPath(specifier)) {
    const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(loadOptions.cwd ?? process.cwd(), specifier);
    if (!existsSync(file)) throw new ConfigError(`${where}: module not found: ${file}`);
    url = pathToFileURL(file).href;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if (!isPath(specifier) && isModuleNotFound(err, specifier)) {
      throw new ConfigError(`${where}: module not found: no installed package '${specifier}' (install it, or give a path such as ./${specifier}.mjs)`, { cause: err });
    }
    throw new ConfigError(`${where}: failed to load: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`, { cause: err });
  }
  const factory = typeof mod.default === 'function' ? mod.default : typeof mod.createCallback === 'function' ? mod.createCallback : undefined;
  if (!factory) {
    const names = Object.keys(mod);
    throw new ConfigError(
      `${where}: no default export or 'createCallback' export that is a function (exports: ${names.length ? names.join(', ') : 'none'}); ` +
        'expected export default function (options) { return { name, onEpochEnd(ctx) { … } }; }',
    );
  }
  return factory as CallbackPluginFactory;
}

/**
 * The second half of {@link loadCallbackPlugin}: call the factory and check what it returned.
 * @throws {ConfigError} when the factory throws (its message, one line) or the result is not a callback
 * or an array of callbacks.
 */
export async function callbacksFromPlugin(specifier: string, factory: CallbackPluginFactory, options: CallbackPluginOptions): Promise<TrainingCallback[]> {
  const where = `callback plugin '${specifier}'`;
  let made: unknown;
  try {
    made = await factory(options);
  } catch (err) {
    if (isKeypointsError(err)) throw err;
    throw new ConfigError(`${where}: its factory threw: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`, { cause: err });
  }
  const list = Array.isArray(made) ? (made as unknown[]) : [made];
  if (list.length === 0) throw new ConfigError(`${where}: the factory returned no callback; ${expected()}`);
  for (const cb of list) {
    const problem = notACallback(cb);
    if (problem) throw new ConfigError(`${where}: the factory returned ${problem}, not a training callback; ${expected()}`);
  }
  return list as TrainingCallback[];
}

function expected(): string {
  return `expected an object (or an array of objects) with a string 'name' and one or more of the hooks ${CALLBACK_HOOKS.join(', ')}`;
}

/** Why `value` is not a callback, or undefined when it is one. */
function notACallback(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return value === undefined ? 'undefined' : `a ${value === null ? 'null' : typeof value}`;
  const cb = value as Record<string, unknown>;
  if (typeof cb.name !== 'string' || cb.name === '') return "an object without a string 'name'";
  if (!CALLBACK_HOOKS.some((h) => typeof cb[h] === 'function')) return `'${cb.name}', an object with none of the hooks`;
  return undefined;
}
