// Loads @tensorflow/tfjs-node or -node-gpu lazily (inside a backend plugin's init()); shared by
// @keypoints/backend-node and @keypoints/backend-node-gpu.
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { activateTfjsBackend } from './backend.js';
import { BackendInitError } from './errors.js';

/** The tfjs backend name both native packages register. */
export const TFJS_NATIVE_BACKEND = 'tensorflow';

/** The two native tfjs packages; at most one may be loaded per process. */
export type TfjsNativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** The version of the native packages that matches this repo's @tensorflow/tfjs. */
export const TFJS_NATIVE_VERSION = '4.22.0';

/**
 * Process-wide marker naming the native package whose import was started (shared through
 * `Symbol.for`, so both plugins — and several copies of them — see it).
 */
const LOADED = Symbol.for('keypoints.tfjsNativePackage');

type Marked = { [LOADED]?: TfjsNativePackage };

/** What one native plugin needs to know about itself. */
export interface NativeFlavour {
  /** Plugin name, for messages (`tensorflow` or `node-gpu`). */
  readonly plugin: string;
  readonly packageName: TfjsNativePackage;
  /** Extra install notes (e.g. CUDA) appended to the remedy. */
  readonly requirements: string;
  /** When true, fail if TensorFlow found no GPU (instead of silently running on the CPU). */
  readonly requireGpu: boolean;
}

/** Loads the native package module (its namespace is not used: importing registers the backend). */
export type NativeModuleLoader = (packageName: TfjsNativePackage) => Promise<unknown>;

/** The exact install command and what the install needs. */
export function installRemedy(flavour: NativeFlavour): string {
  return (
    `install it in your project: \`npm install ${flavour.packageName}@${TFJS_NATIVE_VERSION}\` ` +
    '(its install script downloads libtensorflow from storage.googleapis.com, so the install needs network access to that host' +
    (flavour.requirements ? `; ${flavour.requirements}` : '') +
    "); or pick another backend (`--backend wasm`)"
  );
}

/** The native package already loaded (or being loaded) in this process, if any. */
export function loadedNativePackage(): TfjsNativePackage | undefined {
  const marked = (globalThis as Marked)[LOADED];
  if (marked !== undefined) return marked;
  // Loaded by someone else (a plain `import '@tensorflow/tfjs-node'`): look at the CJS cache.
  const cache = createRequire(import.meta.url).cache;
  const files = Object.keys(cache);
  const gpu = `${sep}@tensorflow${sep}tfjs-node-gpu${sep}`;
  const cpu = `${sep}@tensorflow${sep}tfjs-node${sep}`;
  if (files.some((f) => f.includes(gpu))) return '@tensorflow/tfjs-node-gpu';
  if (files.some((f) => f.includes(cpu))) return '@tensorflow/tfjs-node';
  return undefined;
}

/** Default loader: resolve from this package, then import the resolved file. */
export const importNativePackage: NativeModuleLoader = async (packageName) => {
  const resolved = createRequire(import.meta.url).resolve(packageName);
  return import(/* @vite-ignore */ pathToFileURL(resolved).href);
};

function isNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown };
  // Only the package itself: a missing dependency *of* the package is a broken install.
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    (e.message.split('\n')[0] ?? '').includes(`'${packageName}'`)
  );
}

/**
 * Load one native package, activate its `tensorflow` backend and check it.
 *
 * @throws {BackendInitError} when the package is missing (with the install command), fails to
 *   load (broken libtensorflow / CUDA), the other native package is already loaded in this
 *   process, `tf.setBackend` fails, or (`requireGpu`) TensorFlow found no GPU.
 */
export async function initNativeBackend(
  flavour: NativeFlavour,
  load: NativeModuleLoader = importNativePackage,
): Promise<void> {
  const { plugin, packageName } = flavour;
  const loaded = loadedNativePackage();
  if (loaded !== undefined && loaded !== packageName) {
    throw new BackendInitError(
      plugin,
      `${loaded} is already loaded in this process, and ${packageName} cannot be loaded beside it ` +
        '(both bind libtensorflow and register the same `tensorflow` backend and kernels); ' +
        `run a fresh process that uses only one of them (e.g. \`--backend ${plugin === TFJS_NATIVE_BACKEND ? 'node' : plugin}\`), ` +
        `or uninstall the one you do not want`,
    );
  }

  const tf = await import('@tensorflow/tfjs');
  if (loaded === undefined || tf.findBackendFactory(TFJS_NATIVE_BACKEND) == null) {
    (globalThis as Marked)[LOADED] = packageName;
    try {
      await load(packageName);
    } catch (error) {
      if (isNotFound(error, packageName)) {
        // Nothing was loaded: let the other native package be tried.
        delete (globalThis as Marked)[LOADED];
        throw new BackendInitError(plugin, `${packageName} is not installed; ${installRemedy(flavour)}`, {
          cause: error,
        });
      }
      const first = String((error as Error)?.message ?? error).split('\n')[0];
      throw new BackendInitError(
        plugin,
        `${packageName} is installed but failed to load: ${first}; ` +
          `rebuild it (\`npm rebuild ${packageName}\`, which downloads libtensorflow again) or reinstall it: ${installRemedy(flavour)}`,
        { cause: error },
      );
    }
  }

  if (tf.findBackendFactory(TFJS_NATIVE_BACKEND) == null) {
    throw new BackendInitError(
      plugin,
      `${packageName} loaded but registered no '${TFJS_NATIVE_BACKEND}' backend with this @tensorflow/tfjs; ` +
        `its @tensorflow/tfjs version must match (check \`npm ls @tensorflow/tfjs-core\`, expected ${TFJS_NATIVE_VERSION})`,
    );
  }
  await activateTfjsBackend(
    tf,
    TFJS_NATIVE_BACKEND,
    plugin,
    `tf.setBackend('${TFJS_NATIVE_BACKEND}') returned false: ${packageName} loaded but its backend failed to ` +
      `initialise (tfjs logged the reason above); rebuild it (\`npm rebuild ${packageName}\`) or pick another backend (\`--backend wasm\`)`,
  );

  if (flavour.requireGpu) {
    const usingGpu = (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
    if (usingGpu === false) {
      throw new BackendInitError(
        plugin,
        `${packageName} loaded but TensorFlow found no usable GPU and would silently run on the CPU; ` +
          `${flavour.requirements}. Check \`nvidia-smi\` and that the CUDA/cuDNN libraries are on LD_LIBRARY_PATH, ` +
          'or run a fresh process with `--backend node` (needs @tensorflow/tfjs-node) or `--backend wasm`',
      );
    }
  }
}
