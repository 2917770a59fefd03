import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchNet } from './nets.js';
import type { Rate } from './stats.js';

/** Where Debian's `libopenblas0-openmp` puts its `libblas.so.3` (used via LD_LIBRARY_PATH). */
export const OPENBLAS_OPENMP_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

export interface TorchBenchResult {
  readonly framework: 'pytorch';
  readonly threads: number;
  readonly detail: string;
  readonly nets: ReadonlyArray<{ net: BenchNet; train: Rate; infer: Rate; finalLoss: number }>;
}

/** A Python that imports torch, or `undefined` (the benchmark then runs without the PyTorch peer). */
export interface TorchPython {
  readonly python: string;
  readonly version: string;
  /** LD_LIBRARY_PATH that gives torch OpenBLAS, when Debian's libopenblas0-openmp is installed. */
  readonly libraryPath?: string;
}

/**
 * Find a Python with torch: `$KEYPOINTS_BENCH_PYTHON`, `python3`, then `/usr/bin/python3`
 * (Debian's `python3-torch`, which a pyenv `python3` on PATH would hide).
 */
export function findTorch(): TorchPython | undefined {
  const candidates = [process.env.KEYPOINTS_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  const libraryPath = existsSync(`${OPENBLAS_OPENMP_DIR}/libblas.so.3`) ? OPENBLAS_OPENMP_DIR : undefined;
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: torchEnv(1, libraryPath),
    });
    if (probe.status === 0) return { python, version: probe.stdout.trim(), libraryPath };
  }
  return undefined;
}

/**
 * glibc malloc settings of every PyTorch peer (bench:train and bench:time-to-accuracy): no `mmap` for large
 * blocks, and freed memory kept. PyTorch's CPU allocator has no cache, so with glibc's defaults every activation of more than 32 MB (conv4's first block at
 * batch 64 is 37 MB) is a fresh `mmap` whose pages fault in again at every step; on this project's VMs that made a
 * conv4 step 3× slower (3.0 s → 1.0 s at 2 threads). PyTorch's CPU tuning guide recommends jemalloc / tcmalloc for
 * the same reason; these tunables need nothing installed.
 */
export const TORCH_MALLOC_TUNABLES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184';

/**
 * The environment of a PyTorch peer process: `threads` OpenMP/OpenBLAS threads, {@link TORCH_MALLOC_TUNABLES}
 * added to `GLIBC_TUNABLES`, and, when Debian's `libopenblas0-openmp` is installed (`libraryPath`),
 * `LD_LIBRARY_PATH` pointing at its OpenBLAS.
 */
export function torchEnv(threads: number, libraryPath: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, TORCH_MALLOC_TUNABLES].filter(Boolean).join(':'),
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    ...(libraryPath ? { LD_LIBRARY_PATH: [libraryPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {}),
  };
}

/**
 * Run the PyTorch peer (torch-train.py) with `threads` threads in its own process.
 * @returns the result, or an `{ error }` when the script failed (never throws).
 */
export function benchTorch(
  torch: TorchPython,
  options: { threads: number; nets: readonly BenchNet[]; images: number; batch: number; epochs: number },
): TorchBenchResult | { error: string } {
  const script = fileURLToPath(new URL('./torch-train.py', import.meta.url));
  const run = spawnSync(torch.python, [script, JSON.stringify(options)], {
    encoding: 'utf8',
    env: torchEnv(options.threads, torch.libraryPath),
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  const last = run.stdout?.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{')) {
    return { error: `PyTorch peer exited with ${run.status ?? run.signal}: ${last.slice(0, 300)}` };
  }
  return JSON.parse(last) as TorchBenchResult;
}
