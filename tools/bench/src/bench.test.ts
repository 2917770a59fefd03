import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BENCH_NETS, buildBenchNet, defaultThreadCounts, formatTable, machineInfo, median } from './index.js';
import type { TrainBenchReport } from './index.js';
import { TORCH_MALLOC_TUNABLES, torchEnv } from './torch.js';

// No timings are asserted here: the benchmark prints figures, tests check its plumbing.
describe('bench nets', () => {
  it('net1, net2 and net6 have Nouri’s layers and parameter counts', async () => {
    await tf.setBackend('cpu');
    const params = (name: (typeof BENCH_NETS)[number]) => {
      const m = buildBenchNet(tf, name);
      const count = m.countParams();
      const out = m.outputs[0].shape;
      const layers = m.layers.map((l) => l.getClassName());
      m.dispose();
      return { count, out, layers };
    };
    const net1 = params('net1');
    expect(net1.count).toBe(9216 * 100 + 100 + 100 * 30 + 30);
    const conv = 3 * 3 * 32 + 32 + 2 * 2 * 32 * 64 + 64 + 2 * 2 * 64 * 128 + 128;
    const dense = 15488 * 500 + 500 + 500 * 500 + 500 + 500 * 30 + 30;
    const net2 = params('net2');
    expect(net2.count).toBe(conv + dense);
    expect(net2.out).toEqual([null, 30]);
    const net6 = params('net6');
    expect(net6.count).toBe(conv + dense);
    expect(net6.layers.filter((l) => l === 'Dropout')).toHaveLength(4);
    expect(net2.layers).not.toContain('Dropout');
  });
});

describe('bench plumbing', () => {
  it('measures 1, 2, 4, … and all cores', () => {
    expect(defaultThreadCounts(1)).toEqual([1]);
    expect(defaultThreadCounts(2)).toEqual([1, 2]);
    expect(defaultThreadCounts(6)).toEqual([1, 2, 4, 6]);
    expect(defaultThreadCounts(8)).toEqual([1, 2, 4, 8]);
  });

  it('gives every PyTorch peer its threads, OpenBLAS and the malloc tunables (kept after the caller’s own)', () => {
    const env = torchEnv(2, '/usr/lib/x86_64-linux-gnu/openblas-openmp');
    expect(env).toMatchObject({ OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' });
    expect(env.LD_LIBRARY_PATH?.split(':')[0]).toBe('/usr/lib/x86_64-linux-gnu/openblas-openmp');
    expect(env.GLIBC_TUNABLES?.split(':')).toContain('glibc.malloc.mmap_max=0');
    const saved = process.env.GLIBC_TUNABLES;
    process.env.GLIBC_TUNABLES = 'glibc.pthread.rseq=0';
    try {
      expect(torchEnv(1, undefined).GLIBC_TUNABLES).toBe(`glibc.pthread.rseq=0:${TORCH_MALLOC_TUNABLES}`);
    } finally {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    }
  });

  it('takes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('describes the machine', () => {
    const m = machineInfo();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.cpuModel.length).toBeGreaterThan(0);
  });

  it('prints each tfjs row with its ratio to PyTorch at the same thread count', () => {
    const report = {
      rows: [
        { framework: 'tfjs', backend: 'wasm', threads: 2, net: 'net2', train: 100, infer: 600 },
        { framework: 'pytorch', backend: 'cpu', threads: 2, net: 'net2', train: 200, infer: 400 },
        { framework: 'tfjs', backend: 'wasm', threads: 1, net: 'net2', train: 60, infer: 300 },
      ],
    } as unknown as TrainBenchReport;
    const table = formatTable(report).split('\n');
    expect(table[2]).toBe('| net2 | tfjs wasm | 1 | 60.0 | 300.0 | – | – |');
    expect(table[3]).toBe('| net2 | tfjs wasm | 2 | 100.0 | 600.0 | 0.50 | 1.50 |');
    expect(table[4]).toBe('| net2 | PyTorch | 2 | 200.0 | 400.0 | – | – |');
  });
});
