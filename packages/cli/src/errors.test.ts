import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { reportFailure } from './exit.js';
import { VERSION, main } from './main.js';

/** `keypoints` from the sources: tsx's loader and the `@keypoints/source` export condition (as `npm run keypoints`). */
const CLI = ['--conditions=@keypoints/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, fileURLToPath(new URL('./main.ts', import.meta.url))];
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

function keypoints(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEYPOINTS_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The `keypoints:` lines on stderr (backend selection notes are other lines). */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('keypoints:'));

describe('bad user files give one line naming the file, exit 1', () => {
  it('train --data README.md (not a CSV): the file, the line, what was expected', async () => {
    const r = await keypoints(['train', '--data', README, '--epochs', '1', '--backend', 'cpu', '--out', join(await mkdtemp(join(tmpdir(), 'kp-err-')), 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    const lines = errorLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^keypoints: ${README.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, line \\d+: not a valid CSV file .*expected a Kaggle-format CSV`));
    expect(lines[0]).not.toContain('Buffer');
  }, 60_000);

  it('train --resume with a corrupt config.json: the file and the line', async () => {
    const run = await mkdtemp(join(tmpdir(), 'kp-err-'));
    await writeFile(join(run, 'config.json'), '{\n  "model": "net1",\n  "epochs": 3,\n  oops\n}\n');
    const r = await keypoints(['train', '--resume', run]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/SyntaxError|\n\s+at /);
    const lines = errorLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^keypoints: ${join(run, 'config.json')}, line 4: not valid JSON \\(.*column 3\\); expected a run's settings object`));
  }, 60_000);

  it('train --resume with a wrong-typed config.json: the file and the fields, not zod’s issue array', async () => {
    const run = await mkdtemp(join(tmpdir(), 'kp-err-'));
    await writeFile(join(run, 'config.json'), JSON.stringify({ model: 'net1', data: 'x.csv', epochs: 'three', batchSize: -1 }));
    const r = await keypoints(['train', '--resume', run]);
    expect(r.code).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`keypoints: ${join(run, 'config.json')}: field 'epochs': `);
    expect(lines[0]).toContain("field 'batchSize': ");
    expect(r.stderr).not.toMatch(/"code":|\[\s*\{/);
  }, 60_000);
});

describe('exit statuses', () => {
  it('usage errors exit 2 (a real process: unknown option); --version exits 0', async () => {
    const r = await keypoints(['train', '--bogus']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown option '--bogus'/m);
    const v = await keypoints(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);
  }, 60_000);

  it('usage errors exit 2: missing argument, bad choice, bad value, unknown command; --help exits 0 (main, in process)', async () => {
    const previous = process.exitCode;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const args of [['evaluate'], ['train', '--model', 'net99'], ['train', '--epochs', 'many'], ['tran'], ['convert', '--csv', 'a.csv']]) {
        process.exitCode = undefined;
        await main(['node', 'keypoints', ...args]);
        expect(process.exitCode, args.join(' ')).toBe(2);
      }
      process.exitCode = undefined;
      await main(['node', 'keypoints', 'train', '--help']);
      expect(process.exitCode).toBe(0);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      process.exitCode = previous;
    }
  });

  it('an unexpected error prints one line with the KEYPOINTS_DEBUG hint; KEYPOINTS_DEBUG=1 adds the stack', () => {
    const lines: string[] = [];
    const previous = process.env.KEYPOINTS_DEBUG;
    try {
      delete process.env.KEYPOINTS_DEBUG;
      expect(reportFailure(new TypeError('boom\nsecond line'), (l) => lines.push(l))).toBe(1);
      expect(lines).toEqual(['keypoints: boom (run with KEYPOINTS_DEBUG=1 for the stack)']);
      lines.length = 0;
      process.env.KEYPOINTS_DEBUG = '1';
      reportFailure(new TypeError('boom', { cause: new Error('root') }), (l) => lines.push(l));
      expect(lines[0]).toBe('keypoints: boom');
      expect(lines[1]).toMatch(/TypeError: boom\n\s+at [\s\S]*caused by: Error: root/);
    } finally {
      if (previous === undefined) delete process.env.KEYPOINTS_DEBUG;
      else process.env.KEYPOINTS_DEBUG = previous;
    }
  });
});
