import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendInitError, ConfigError, isKeypointsError, selectBackend } from '@keypoints/core';
import type { BackendPlugin } from '@keypoints/core';
import { cpuBackend } from '@keypoints/backend-cpu';
import { nodeBackend } from '@keypoints/backend-node';
import { nodeGpuBackend } from '@keypoints/backend-node-gpu';
import { wasmBackend } from '@keypoints/backend-wasm';

// The default chain on a machine without tfjs-node / tfjs-node-gpu (this repo's CI).
const all: BackendPlugin[] = [cpuBackend, wasmBackend, nodeBackend, nodeGpuBackend];

describe('selectBackend with all four plugins', () => {
  it('tries node-gpu, then node, and lands on wasm', async () => {
    const selection = await selectBackend(all);
    expect(selection.plugin.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.skipped.map((s) => s.name)).toEqual(['node-gpu', 'tensorflow']);
    const [gpu, node] = selection.skipped.map((s) => s.error);
    expect(isKeypointsError(gpu, 'BACKEND_INIT')).toBe(true);
    expect(gpu.message).toContain('npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(gpu.message).toContain('CUDA 11.2');
    expect(node.message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
    expect(node.message).toContain('storage.googleapis.com');
  });

  it('logs each skipped backend once, under the name --backend takes', async () => {
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    await selectBackend(all, undefined, { info: log, warn: log });
    expect(lines).toEqual([
      expect.stringMatching(/^backend 'node-gpu' skipped \(@tensorflow\/tfjs-node-gpu is not installed\)$/),
      expect.stringMatching(/^backend 'node' skipped \(@tensorflow\/tfjs-node is not installed\)$/),
    ]);
  });

  it('naming `node` gives the actionable error instead of falling back', async () => {
    const error = await selectBackend(all, 'node').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendInitError);
    expect((error as BackendInitError).backend).toBe('tensorflow');
    expect((error as Error).message).toBe(
      "backend 'node': @tensorflow/tfjs-node is not installed; install it in your project: " +
        '`npm install @tensorflow/tfjs-node@4.22.0` (its install script downloads libtensorflow from ' +
        'storage.googleapis.com, so the install needs network access to that host; prebuilt for Linux x64, ' +
        'macOS and Windows x64; elsewhere it builds from source (python, a C++ toolchain)); or pick another ' +
        'backend (`--backend wasm`)',
    );
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown name lists the available backends', async () => {
    await expect(selectBackend(all, 'tpu')).rejects.toThrow(ConfigError);
    await expect(selectBackend(all, 'tpu')).rejects.toThrow(
      "unknown backend 'tpu'; available: cpu, wasm, node (tensorflow), node-gpu",
    );
  });

  it('a named backend that works is used as is', async () => {
    expect((await selectBackend(all, 'cpu')).plugin.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend(all, 'wasm')).plugin.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
