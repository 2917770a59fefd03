import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendInitError, isKeypointsError, selectBackend } from '@keypoints/core';
import { NODE_BACKEND_NAME, NODE_BACKEND_PRIORITY, createNodeBackend, nodeBackend } from './index.js';

const MARKER = Symbol.for('keypoints.tfjsNativePackage');
const marker = globalThis as { [MARKER]?: string };

/** A stand-in for tfjs-node: registers a `tensorflow` backend made from the cpu one. */
async function fakeTfjsNode(): Promise<void> {
  const cpu = tf.findBackendFactory('cpu');
  if (!cpu) throw new Error('cpu backend missing');
  tf.registerBackend('tensorflow', cpu);
}

async function initError(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendInitError);
  expect(isKeypointsError(error, 'BACKEND_INIT')).toBe(true);
  return error as Error;
}

describe('node (tfjs-node) backend plugin', () => {
  afterEach(async () => {
    delete marker[MARKER];
    if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
    await tf.setBackend('cpu');
  });

  it('declares name `tensorflow` (alias `node`) and priority 300', () => {
    expect(nodeBackend.name).toBe('tensorflow');
    expect(NODE_BACKEND_NAME).toBe('tensorflow');
    expect(nodeBackend.priority).toBe(300);
    expect(NODE_BACKEND_PRIORITY).toBe(300);
  });

  it('imports without @tensorflow/tfjs-node and says how to install it', async () => {
    expect(() => createRequire(import.meta.url).resolve('@tensorflow/tfjs-node')).toThrow();
    const error = await initError(nodeBackend.init());
    expect(error.message).toContain("backend 'node': @tensorflow/tfjs-node is not installed");
    expect(error.message).toContain('`npm install @tensorflow/tfjs-node@4.22.0`');
    expect(error.message).toContain('downloads libtensorflow from storage.googleapis.com');
    expect(error.message).toContain('--backend wasm');
    expect(marker[MARKER]).toBeUndefined(); // nothing loaded: node-gpu may still be tried
  });

  it('is selectable as `node`', async () => {
    const error = await initError(selectBackend([nodeBackend], 'node'));
    expect(error.message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
  });

  it('reports a broken install (binding or a dependency missing) with the rebuild command', async () => {
    const binding = new Error(
      'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/tfjs_binding.node',
    );
    let error = await initError(createNodeBackend({ load: () => Promise.reject(binding) }).init());
    expect(error.message).toContain('@tensorflow/tfjs-node is installed but failed to load: The Node.js native addon');
    expect(error.message).toContain('`npm rebuild @tensorflow/tfjs-node`');
    expect((error as Error & { cause?: unknown }).cause).toBe(binding);

    const dependency = Object.assign(
      new Error("Cannot find module '@mapbox/node-pre-gyp'\nRequire stack:\n- /x/node_modules/@tensorflow/tfjs-node/dist/index.js"),
      { code: 'MODULE_NOT_FOUND' },
    );
    error = await initError(createNodeBackend({ load: () => Promise.reject(dependency) }).init());
    expect(error.message).toContain('is installed but failed to load');
  });

  it('activates the `tensorflow` backend once the package is loaded', async () => {
    const load = vi.fn(fakeTfjsNode);
    const plugin = createNodeBackend({ load });
    await plugin.init();
    expect(tf.getBackend()).toBe('tensorflow');
    await plugin.init();
    expect(load).toHaveBeenCalledTimes(1);
    expect(load).toHaveBeenCalledWith('@tensorflow/tfjs-node');
  });

  it('refuses to load beside tfjs-node-gpu (marker set by the node-gpu plugin)', async () => {
    marker[MARKER] = '@tensorflow/tfjs-node-gpu';
    const load = vi.fn(fakeTfjsNode);
    const error = await initError(createNodeBackend({ load }).init());
    expect(error.message).toContain(
      '@tensorflow/tfjs-node-gpu is already loaded in this process, and @tensorflow/tfjs-node cannot be loaded beside it',
    );
    expect(error.message).toContain('--backend node');
    expect(load).not.toHaveBeenCalled();
  });

  it('refuses to load beside tfjs-node-gpu loaded by someone else (require cache)', async () => {
    const cache = createRequire(import.meta.url).cache;
    const file = '/somewhere/node_modules/@tensorflow/tfjs-node-gpu/dist/index.js';
    cache[file] = { id: file, filename: file, loaded: true } as NodeJS.Module;
    try {
      const load = vi.fn(fakeTfjsNode);
      const error = await initError(createNodeBackend({ load }).init());
      expect(error.message).toContain('@tensorflow/tfjs-node-gpu is already loaded in this process');
      expect(load).not.toHaveBeenCalled();
    } finally {
      delete cache[file];
    }
  });
});
