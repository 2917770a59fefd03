import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendInitError, isKeypointsError, selectBackend } from '@keypoints/core';
import {
  NODE_GPU_BACKEND_NAME,
  NODE_GPU_BACKEND_PRIORITY,
  createNodeGpuBackend,
  nodeGpuBackend,
} from './index.js';

const MARKER = Symbol.for('keypoints.tfjsNativePackage');
const marker = globalThis as { [MARKER]?: string };

/** A stand-in for tfjs-node-gpu: a `tensorflow` backend made from the cpu one. */
function fakeTfjsNodeGpu(isUsingGpuDevice: boolean) {
  return async (): Promise<void> => {
    const cpu = tf.findBackendFactory('cpu');
    if (!cpu) throw new Error('cpu backend missing');
    tf.registerBackend('tensorflow', () => Object.assign(cpu() as tf.KernelBackend, { isUsingGpuDevice }));
  };
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

describe('node-gpu (tfjs-node-gpu) backend plugin', () => {
  afterEach(async () => {
    delete marker[MARKER];
    if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
    await tf.setBackend('cpu');
  });

  it('declares name `node-gpu` and priority 400', () => {
    expect(nodeGpuBackend.name).toBe('node-gpu');
    expect(NODE_GPU_BACKEND_NAME).toBe('node-gpu');
    expect(nodeGpuBackend.priority).toBe(400);
    expect(NODE_GPU_BACKEND_PRIORITY).toBe(400);
  });

  it('imports without @tensorflow/tfjs-node-gpu and says how to install it', async () => {
    expect(() => createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu')).toThrow();
    const error = await initError(selectBackend([nodeGpuBackend], 'node-gpu'));
    expect(error.message).toContain("backend 'node-gpu': @tensorflow/tfjs-node-gpu is not installed");
    expect(error.message).toContain('`npm install @tensorflow/tfjs-node-gpu@4.22.0`');
    expect(error.message).toContain('storage.googleapis.com');
    expect(error.message).toContain('CUDA 11.2 (11.x) and cuDNN 8.1 (8.x)');
    expect(marker[MARKER]).toBeUndefined();
  });

  it('reports a CUDA load failure with the rebuild command', async () => {
    const cuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    const error = await initError(createNodeGpuBackend({ load: () => Promise.reject(cuda) }).init());
    expect(error.message).toContain('@tensorflow/tfjs-node-gpu is installed but failed to load: libcudart.so.11.0');
    expect(error.message).toContain('`npm rebuild @tensorflow/tfjs-node-gpu`');
  });

  it('activates `tensorflow` when TensorFlow sees a GPU', async () => {
    const load = vi.fn(fakeTfjsNodeGpu(true));
    await createNodeGpuBackend({ load }).init();
    expect(tf.getBackend()).toBe('tensorflow');
    expect(load).toHaveBeenCalledWith('@tensorflow/tfjs-node-gpu');
  });

  it('fails loudly when TensorFlow found no GPU, unless requireGpu is false', async () => {
    const error = await initError(createNodeGpuBackend({ load: fakeTfjsNodeGpu(false) }).init());
    expect(error.message).toContain('found no usable GPU and would silently run on the CPU');
    expect(error.message).toContain('nvidia-smi');
    tf.removeBackend('tensorflow');
    await createNodeGpuBackend({ load: fakeTfjsNodeGpu(false), requireGpu: false }).init();
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('refuses to load beside tfjs-node', async () => {
    marker[MARKER] = '@tensorflow/tfjs-node';
    const load = vi.fn(fakeTfjsNodeGpu(true));
    const error = await initError(createNodeGpuBackend({ load }).init());
    expect(error.message).toContain(
      '@tensorflow/tfjs-node is already loaded in this process, and @tensorflow/tfjs-node-gpu cannot be loaded beside it',
    );
    expect(error.message).toContain('--backend node-gpu');
    expect(load).not.toHaveBeenCalled();
  });
});
