import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resumeCommand } from './interrupt.js';

/** `keypoints` from the sources: tsx's loader and the `@keypoints/source` export condition (as `npm run keypoints`). */
const CLI = ['--conditions=@keypoints/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, fileURLToPath(new URL('./main.ts', import.meta.url))];

function epochsCompleted(runDir: string): number {
  try {
    return JSON.parse(readFileSync(join(runDir, 'checkpoints', 'last', 'state.json'), 'utf8')).epochsCompleted;
  } catch {
    return 0;
  }
}

/** Run the CLI; with `interruptAfter`, send `signal` once that many epochs are checkpointed. */
function keypoints(args: string[], interrupt?: { runDir: string; after: number; signal: NodeJS.Signals }): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let timer: NodeJS.Timeout | undefined;
  if (interrupt) {
    timer = setInterval(() => {
      if (epochsCompleted(interrupt.runDir) >= interrupt.after) {
        clearInterval(timer);
        child.kill(interrupt.signal);
      }
    }, 10);
  }
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, output });
    }),
  );
}

describe('keypoints train interrupted by Ctrl-C (SIGINT)', () => {
  it('stops at an epoch end, writes the run with status interrupted, prints the resume command, exits 130; --resume finishes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-int-'));
    const out = join(dir, 'net1');
    const epochs = 12;
    const common = ['--model', 'net1', '--limit', '240', '--backend', 'wasm', '--seed', '5'];
    const first = await keypoints(['train', ...common, '--epochs', String(epochs), '--out', out], { runDir: out, after: 2, signal: 'SIGINT' });
    expect(first.code, first.output).toBe(130);
    expect(first.output).toContain(`resume with: keypoints train --resume ${out}`);

    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.status).toBe('interrupted');
    expect(metrics.stopReason).toBe('interrupted by SIGINT');
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as Array<{ epoch: number }>;
    const done = history.length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(epochs);
    // history, metrics, model and the last checkpoint describe the same epochs.
    expect(history.map((h) => h.epoch)).toEqual([...Array(done).keys()]);
    expect(metrics.epochs).toBe(done);
    expect(epochsCompleted(out)).toBe(done);
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);

    const resumed = await keypoints(['train', '--resume', out]);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`after epoch ${done}`);
    const all = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as Array<{ epoch: number }>;
    expect(all.map((h) => h.epoch)).toEqual([...Array(epochs).keys()]);
    expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')).status).toBe('completed');
  }, 120_000);

  it('SIGTERM does the same and exits 143', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-term-'));
    const out = join(dir, 'net1');
    const r = await keypoints(['train', '--model', 'net1', '--limit', '240', '--backend', 'wasm', '--epochs', '40', '--out', out], { runDir: out, after: 1, signal: 'SIGTERM' });
    expect(r.code, r.output).toBe(143);
    expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')).status).toBe('interrupted');
  }, 120_000);
});

describe('resumeCommand', () => {
  it('shows the run directory relative to the working directory, quoted when needed, with the --callback modules', () => {
    expect(resumeCommand('/home/u/runs/net1', [], '/home/u')).toBe('keypoints train --resume runs/net1');
    expect(resumeCommand('/data/runs/net1', [], '/home/u')).toBe('keypoints train --resume /data/runs/net1');
    expect(resumeCommand("/home/u/my runs/it's", ['./log.mjs'], '/home/u')).toBe(`keypoints train --resume 'my runs/it'\\''s' --callback ./log.mjs`);
  });
});
