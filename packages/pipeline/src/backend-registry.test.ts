import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  BACKEND_NAME,
  BACKEND_PLUGINS,
  BackendInitError,
  BackendRegistry,
  ConfigError,
  LOGGER,
  activateTfjsBackend,
  container,
  isKeypointsError,
  resolveBackend,
  silentLogger,
  type BackendPlugin,
  type DependencyContainer,
} from '@keypoints/core';
import { initBackend, registerDefaultBackends, trainRun } from './index.js';

// What a third-party backend package would ship: a plugin and its register function. Nothing
// here is known to our packages; it is registered from the outside, into a child container.
const TEST_CPU = 'test-cpu';

/** tfjs's cpu backend, registered with tfjs under its own name (with every cpu kernel copied). */
function createTestCpuBackend(): BackendPlugin {
  return {
    name: TEST_CPU,
    priority: 50,
    description: "tfjs's cpu kernels under the name test-cpu (a third-party backend for tests)",
    async init() {
      if (tf.findBackendFactory(TEST_CPU) == null) {
        const cpu = tf.findBackendFactory('cpu');
        if (cpu == null) throw new BackendInitError(TEST_CPU, "tfjs has no 'cpu' backend to copy; reinstall @tensorflow/tfjs");
        tf.registerBackend(TEST_CPU, cpu);
        for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: TEST_CPU });
      }
      await activateTfjsBackend(tf, TEST_CPU, TEST_CPU, `tf.setBackend('${TEST_CPU}') returned false`);
    },
  };
}

function registerTestCpuBackend(c: DependencyContainer): DependencyContainer {
  c.register(BACKEND_PLUGINS, { useValue: createTestCpuBackend() });
  return c;
}

/** A plugin whose init throws a plain Error, as a careless third-party plugin might. */
const broken: BackendPlugin = {
  name: 'broken',
  priority: 10_000,
  description: 'always fails',
  init: () => Promise.reject(new Error('no such device')),
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('backend plugins through DI', () => {
  it('registers nothing on import: the root container has no BACKEND_PLUGINS', () => {
    expect(container.isRegistered(BACKEND_PLUGINS, true)).toBe(false);
    expect(container.resolve(BackendRegistry).plugins).toEqual([]);
  });

  it('lists the registered backends by priority; an unknown name lists them', async () => {
    const host = registerTestCpuBackend(registerDefaultBackends(container.createChildContainer()));
    expect(host.resolve(BackendRegistry).names()).toEqual(['node-gpu', 'node', 'wasm', 'cpu', TEST_CPU]);
    const error = await rejection(initBackend('tpu', silentLogger, { container: host }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe("unknown backend 'tpu'; available: node-gpu, node (tensorflow), wasm, cpu, test-cpu");
    await expect(resolveBackend(container.createChildContainer())).rejects.toThrow(/no backend plugins registered; register some under BACKEND_PLUGINS/);
  });

  it('a third-party backend registered from outside is selected by name and trains a real run', async () => {
    const host = registerTestCpuBackend(registerDefaultBackends(container.createChildContainer()));
    expect(await initBackend(TEST_CPU, silentLogger, { container: host })).toBe(TEST_CPU);
    expect(tf.getBackend()).toBe(TEST_CPU);

    const seen: string[] = [];
    const out = join(await mkdtemp(join(tmpdir(), 'kp-backend-')), 'net1');
    const { metrics } = await trainRun(
      { model: 'net1', maxRows: 64, epochs: 2, batchSize: 32, backend: TEST_CPU, out },
      {
        progress: false,
        logger: silentLogger,
        callbacks: [{ name: 'backend-probe', onEpochEnd: () => void seen.push(tf.getBackend()) }],
      },
    );
    expect(metrics.backend).toBe(TEST_CPU);
    expect(seen).toEqual([TEST_CPU, TEST_CPU]);
    expect(Number.isFinite(metrics.finalValidRmsePx)).toBe(true);
    // Idempotent: without a name, or naming it, the active backend stays.
    expect(await initBackend(undefined)).toBe(TEST_CPU);
    expect(await initBackend(TEST_CPU)).toBe(TEST_CPU);
  });

  it('a named plugin whose init throws gives a typed BackendInitError with the remedy', async () => {
    const host = registerTestCpuBackend(container.createChildContainer());
    host.register(BACKEND_PLUGINS, { useValue: broken });
    const error = await rejection(initBackend('broken', silentLogger, { container: host }));
    expect(error).toBeInstanceOf(BackendInitError);
    expect(isKeypointsError(error, 'BACKEND_INIT')).toBe(true);
    expect((error as BackendInitError).backend).toBe('broken');
    expect((error as Error).message).toBe(
      "backend 'broken': init() failed: no such device; fix or reinstall the package that provides it, or pick another backend (--backend test-cpu)",
    );
    expect((error as Error).cause).toBeInstanceOf(Error);

    // A plugin's own BackendInitError (its remedy) is passed on unchanged.
    const typed = container.createChildContainer();
    const remedy = new BackendInitError('typed', 'the driver is missing; install it with `apt install typed-driver`');
    typed.register(BACKEND_PLUGINS, { useValue: { ...broken, name: 'typed', init: () => Promise.reject(remedy) } });
    await expect(resolveBackend(typed, 'typed')).rejects.toBe(remedy);
  });

  it('without a name the chain skips the failing plugin, logs it to LOGGER, and BACKEND_NAME picks one', async () => {
    const host = registerTestCpuBackend(container.createChildContainer());
    host.register(BACKEND_PLUGINS, { useValue: broken });
    const lines: string[] = [];
    host.register(LOGGER, { useValue: { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) } });
    const selection = await resolveBackend(host);
    expect(selection.plugin.name).toBe(TEST_CPU);
    expect(selection.skipped.map((s) => s.name)).toEqual(['broken']);
    expect(isKeypointsError(selection.skipped[0].error, 'BACKEND_INIT')).toBe(true);
    expect(lines).toEqual(["backend 'broken' skipped (init() failed: no such device)"]);

    const named = host.createChildContainer();
    named.register(BACKEND_NAME, { useValue: 'broken' });
    await expect(resolveBackend(named)).rejects.toThrow(BackendInitError);
    await expect(resolveBackend(named, TEST_CPU)).resolves.toMatchObject({ plugin: { name: TEST_CPU }, skipped: [] });
  });

  it('the optional tfjs-node backend, selected but missing, names the install command', async () => {
    const host = registerDefaultBackends(container.createChildContainer());
    const error = await rejection(initBackend('node', silentLogger, { container: host }));
    expect(error).toBeInstanceOf(BackendInitError);
    expect((error as Error).message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
  });

  it('a backend name registered twice is refused', () => {
    const host = registerTestCpuBackend(registerTestCpuBackend(container.createChildContainer()));
    expect(() => host.resolve(BackendRegistry)).toThrow(/backend 'test-cpu' is registered twice under BACKEND_PLUGINS/);
  });
});
