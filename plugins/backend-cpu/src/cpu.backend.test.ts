import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@keypoints/core';
import { CPU_BACKEND_NAME, CPU_BACKEND_PRIORITY, cpuBackend, createCpuBackend } from './index.js';

describe('cpu backend plugin', () => {
  it('declares its name, priority and a description', () => {
    expect(cpuBackend.name).toBe('cpu');
    expect(CPU_BACKEND_NAME).toBe('cpu');
    expect(cpuBackend.priority).toBe(100);
    expect(CPU_BACKEND_PRIORITY).toBe(100);
    expect(cpuBackend.description.length).toBeGreaterThan(0);
  });

  it('initialises, activates cpu and computes a matMul', async () => {
    await createCpuBackend().init();
    expect(tf.getBackend()).toBe('cpu');
    const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
    expect(await product.array()).toEqual([[19, 22], [43, 50]]);
    product.dispose();
  });

  it('is idempotent and selectable by name', async () => {
    const selection = await selectBackend([cpuBackend], 'cpu');
    expect(selection.plugin).toBe(cpuBackend);
    await cpuBackend.init();
    expect(tf.getBackend()).toBe('cpu');
  });
});
