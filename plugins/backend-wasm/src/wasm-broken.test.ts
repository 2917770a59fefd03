import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendInitError, selectBackend } from '@keypoints/core';
import { createCpuBackend } from '@keypoints/backend-cpu';
import { WASM_BINARY_NAMES, createWasmBackend } from './index.js';

// Separate file: a failed initialisation poisons the wasm module for the rest of the process.
describe('wasm backend with corrupt binaries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keypoints-wasm-corrupt-'));
  for (const name of WASM_BINARY_NAMES) writeFileSync(join(dir, name), 'not a wasm module');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('turns a module that fails to compile into a BackendInitError with the reason and a remedy', async () => {
    const uncaught = process.listenerCount('uncaughtException');
    const rejections = process.listenerCount('unhandledRejection');
    const error = await createWasmBackend({ wasmPaths: dir }).init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendInitError);
    const message = (error as Error).message;
    expect(message).toContain("backend 'wasm': the threaded-SIMD wasm module failed to initialise");
    expect(message).toMatch(/CompileError/);
    expect(message).toContain(join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'));
    expect(message).toContain('npm install @tensorflow/tfjs-backend-wasm@4.22.0');
    expect(process.listenerCount('uncaughtException')).toBe(uncaught);
    expect(process.listenerCount('unhandledRejection')).toBe(rejections);
    expect(tf.getBackend()).not.toBe('wasm');
  });

  it('lets the chain fall through to cpu', async () => {
    const selection = await selectBackend([createWasmBackend({ wasmPaths: dir }), createCpuBackend()]);
    expect(selection.plugin.name).toBe('cpu');
    expect(selection.skipped.map((s) => s.name)).toEqual(['wasm']);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('can start the good binaries later in the same process (this loader can retry, unlike tfjs\'s)', async () => {
    await createWasmBackend({ threads: 1 }).init();
    expect(tf.getBackend()).toBe('wasm');
    const sum = tf.sum(tf.tensor([1, 2, 3]));
    expect(await sum.data()).toEqual(new Float32Array([6]));
    sum.dispose();
  });
});
