import { selectBackend, type BackendPlugin, type Logger } from '@keypoints/core';
import { createCpuBackend } from '@keypoints/backend-cpu';
import { createNodeBackend } from '@keypoints/backend-node';
import { createNodeGpuBackend } from '@keypoints/backend-node-gpu';
import { createWasmBackend } from '@keypoints/backend-wasm';

/** Names accepted by `--backend`. `node` is tfjs-node (its tfjs name is `tensorflow`). */
export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

/** Options of {@link initBackend} / {@link backendPlugins}. */
export interface BackendOptions {
  /** Threads of the wasm backend (default: every core); ignored by the other backends. */
  readonly threads?: number;
}

/** The backend plugins the CLI knows, in the default chain's priority order. */
export function backendPlugins(options: BackendOptions = {}): BackendPlugin[] {
  const wasm = options.threads !== undefined ? { threads: options.threads } : {};
  return [createNodeGpuBackend(), createNodeBackend(), createWasmBackend(wasm), createCpuBackend()];
}

let active: string | undefined;

/**
 * Initialise the named backend, or the first of node-gpu → node → wasm → cpu that loads.
 * Idempotent within a process. Returns the plugin's name.
 *
 * @throws {BackendInitError} when the named backend cannot load (with the remedy).
 */
export async function initBackend(name: string | undefined, logger?: Logger, options: BackendOptions = {}): Promise<string> {
  if (active && (name === undefined || name === active || (name === 'node' && active === 'tensorflow'))) return active;
  const { plugin } = await selectBackend(backendPlugins(options), name, logger);
  active = plugin.name;
  return active;
}
