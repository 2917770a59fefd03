import { selectBackend, type BackendPlugin, type Logger } from '@keypoints/core';
import { createCpuBackend } from '@keypoints/backend-cpu';
import { createNodeBackend } from '@keypoints/backend-node';
import { createNodeGpuBackend } from '@keypoints/backend-node-gpu';
import { createWasmBackend } from '@keypoints/backend-wasm';

/** Names accepted by `--backend`. `node` is tfjs-node (its tfjs name is `tensorflow`). */
export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

/** The backend plugins the CLI knows, in the default chain's priority order. */
export function backendPlugins(): BackendPlugin[] {
  return [createNodeGpuBackend(), createNodeBackend(), createWasmBackend(), createCpuBackend()];
}

let active: string | undefined;

/**
 * Initialise the named backend, or the first of node-gpu → node → wasm → cpu that loads.
 * Idempotent within a process. Returns the plugin's name.
 *
 * @throws {BackendInitError} when the named backend cannot load (with the remedy).
 */
export async function initBackend(name: string | undefined, logger?: Logger): Promise<string> {
  if (active && (name === undefined || name === active || (name === 'node' && active === 'tensorflow'))) return active;
  const { plugin } = await selectBackend(backendPlugins(), name, logger);
  active = plugin.name;
  return active;
}
