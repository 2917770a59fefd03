import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendInitError, ConfigError, isKeypointsError } from '@keypoints/core';
import {
  WASM_BACKEND_NAME,
  WASM_BACKEND_PRIORITY,
  THREADED_SIMD_BINARY,
  WASM_BINARY_NAMES,
  createWasmBackend,
  defaultThreads,
  defaultWasmDir,
  wasmBackend,
  wasmBackendInfo,
} from './index.js';

// One tfjs engine (and one wasm module) per test file: the order of these tests matters.
describe('wasm backend plugin', () => {
  const empty = mkdtempSync(join(tmpdir(), 'keypoints-wasm-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('declares its name, priority and a description', () => {
    expect(wasmBackend.name).toBe('wasm');
    expect(WASM_BACKEND_NAME).toBe('wasm');
    expect(wasmBackend.priority).toBe(200);
    expect(WASM_BACKEND_PRIORITY).toBe(200);
    expect(wasmBackend.description).toMatch(/wasm/);
  });

  it('rejects bad options in the factory', () => {
    expect(() => createWasmBackend({ threads: 0 })).toThrow(ConfigError);
    expect(() => createWasmBackend({ threads: 1.5 })).toThrow(/positive integer/);
    expect(() =>
      createWasmBackend({ kernels: [{ kernelName: 'X', backendName: 'cpu', kernelFunc: () => [] as never }] }),
    ).toThrow(/kernel 'X' is for backend 'cpu', expected 'wasm'/);
  });

  it('finds the stock binaries in @tensorflow/tfjs-backend-wasm/dist', () => {
    const dir = defaultWasmDir();
    expect(dir).toMatch(/@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]$/);
  });

  it('throws BackendInitError naming the missing files before touching tfjs', async () => {
    const plugin = createWasmBackend({ wasmPaths: empty });
    const error = await plugin.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendInitError);
    expect(isKeypointsError(error, 'BACKEND_INIT')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("backend 'wasm': missing .wasm binary");
    expect(message).toContain(join(empty, THREADED_SIMD_BINARY));
    expect(message).toContain('npm install @tensorflow/tfjs-backend-wasm@4.22.0');
    expect(tf.getBackend()).not.toBe('wasm');
  });

  it('initialises, activates wasm with one thread per core and computes a matMul', async () => {
    const uncaught = process.listenerCount('uncaughtException');
    const rejections = process.listenerCount('unhandledRejection');
    await wasmBackend.init();
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmBackendInfo()).toEqual({
      threads: defaultThreads(),
      binary: defaultWasmDir() + THREADED_SIMD_BINARY,
      trainingKernels: true,
    });
    expect(defaultThreads()).toBe(availableParallelism());
    const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
    expect(await product.array()).toEqual([[19, 22], [43, 50]]);
    product.dispose();
    // the Emscripten glue's process-wide rethrowing listeners are removed again
    expect(process.listenerCount('uncaughtException')).toBe(uncaught);
    expect(process.listenerCount('unhandledRejection')).toBe(rejections);
  });

  it('is idempotent, also for an explicit path equal to the default', async () => {
    await wasmBackend.init();
    await createWasmBackend({ wasmPaths: defaultWasmDir().slice(0, -1) }).init();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('refuses a different configuration once initialised', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'keypoints-wasm-copy-'));
    try {
      const { copyFileSync } = await import('node:fs');
      for (const name of WASM_BINARY_NAMES) copyFileSync(defaultWasmDir() + name, join(copy, name));
      await expect(createWasmBackend({ wasmPaths: copy }).init()).rejects.toThrow(
        /already initialised in this process .* use one configuration per process/,
      );
      await expect(createWasmBackend({ threads: defaultThreads() + 1 }).init()).rejects.toThrow(
        /already initialised in this process .* threads/,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('registers extra kernels for wasm in init (the extension point for custom kernels)', async () => {
    const kernelName = 'KeypointsTestDouble';
    const plugin = createWasmBackend({
      kernels: [
        {
          kernelName,
          backendName: 'wasm',
          kernelFunc: ({ inputs, backend }) => {
            const x = inputs.x as tf.TensorInfo;
            const values = (backend as tf.KernelBackend).readSync(x.dataId) as Float32Array;
            const out = new Float32Array(values.length).map((_, i) => 2 * values[i]);
            const dataId = (backend as tf.KernelBackend).write(out, x.shape, 'float32');
            return { dataId, shape: x.shape, dtype: 'float32' };
          },
        },
      ],
    });
    await plugin.init();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel(kernelName, { x }) as tf.Tensor;
    expect(await y.array()).toEqual([2, 4, 6]);
    tf.dispose([x, y]);
    await plugin.init(); // registering the same kernel again is a no-op
    tf.unregisterKernel(kernelName, 'wasm');
  });
});
