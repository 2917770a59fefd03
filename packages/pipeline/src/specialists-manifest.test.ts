import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPECIALIST_KEYPOINT_SETS, isKeypointsError } from '@keypoints/core';
import {
  SPECIALISTS_MANIFEST,
  readSpecialistsManifest,
  writeSpecialistsManifest,
  type SpecialistsManifest,
} from './specialists-manifest.js';

const [eyes, nose] = SPECIALIST_KEYPOINT_SETS;
const manifest: SpecialistsManifest = {
  kind: 'specialists',
  pretrained: '/abs/runs/net6',
  workers: 2,
  threadsPerWorker: 1,
  wallSeconds: 123.4,
  sequentialSeconds: 240.1,
  specialists: [
    { name: eyes.name, runDir: eyes.name, columns: eyes.columns, status: 'completed', epochs: 40, bestValidRmsePx: 2.1, trainSeconds: 60.2, stopReason: 'early stopping' },
    { name: nose.name, runDir: nose.name, columns: nose.columns, status: 'failed', epochs: 0, bestValidRmsePx: null, trainSeconds: 1, error: 'boom (log: x)' },
  ],
};

async function codeAndMessage(promise: Promise<unknown>): Promise<[string, string]> {
  try {
    await promise;
  } catch (error) {
    if (isKeypointsError(error)) return [error.code, error.message];
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('specialists.json', () => {
  it('writes the README format (key order, 2-space JSON, final newline) and reads it back', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kp-manifest-')), 'specialists');
    const file = await writeSpecialistsManifest(dir, manifest);
    expect(file).toBe(join(dir, SPECIALISTS_MANIFEST));
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(manifest, null, 2) + '\n');
    expect(readdirSync(dir)).toEqual(['specialists.json']);
    expect(await readSpecialistsManifest(dir)).toEqual(manifest);
  });

  it('refuses to write an invalid manifest, and leaves the previous one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-manifest-'));
    await writeSpecialistsManifest(dir, manifest);
    const before = readFileSync(join(dir, SPECIALISTS_MANIFEST), 'utf8');
    const bad = { ...manifest, wallSeconds: NaN, specialists: [{ ...manifest.specialists[0], columns: ['left_ear_x'] }] };
    const [code, message] = await codeAndMessage(writeSpecialistsManifest(dir, bad));
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toContain(join(dir, SPECIALISTS_MANIFEST));
    expect(message).toContain('wallSeconds');
    expect(message).toContain("specialists[0].columns[0]: 'left_ear_x' is not a Kaggle keypoint column");
    expect(readFileSync(join(dir, SPECIALISTS_MANIFEST), 'utf8')).toBe(before);
  });

  it('reads a minimal hand-written manifest; normalises the legacy status "stopped"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-manifest-'));
    writeFileSync(
      join(dir, SPECIALISTS_MANIFEST),
      JSON.stringify({ kind: 'specialists', specialists: [{ name: 'eye_center', runDir: '/abs/eye_center', columns: eyes.columns, status: 'stopped', extra: 1 }] }),
    );
    const read = await readSpecialistsManifest(dir);
    expect(read.specialists).toEqual([{ name: 'eye_center', runDir: '/abs/eye_center', columns: eyes.columns, status: 'completed' }]);
    expect(read.workers).toBeUndefined();
  });

  it('fails on one line naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-manifest-'));
    const file = join(dir, SPECIALISTS_MANIFEST);
    expect(await codeAndMessage(readSpecialistsManifest(dir))).toEqual([
      'DATA_NOT_FOUND',
      expect.stringMatching(new RegExp(`^${file}: cannot read the specialists manifest \\(ENOENT`)),
    ]);
    writeFileSync(file, '{ "kind": ');
    expect((await codeAndMessage(readSpecialistsManifest(dir)))[1]).toMatch(new RegExp(`^${file}: not valid JSON`));

    const cases: Array<[unknown, string]> = [
      [{ kind: 'runs', specialists: [] }, 'kind: Invalid literal value, expected "specialists"; specialists: Array must contain at least 1 element(s)'],
      [{ kind: 'specialists', specialists: [{ name: 'eye_center', runDir: 'eye_center' }] }, 'specialists[0].columns: required'],
      [{ kind: 'specialists', specialists: [{ name: 'eye_center', runDir: 'eye_center', columns: eyes.columns, status: 'done' }] }, 'specialists[0].status: '],
      [{ kind: 'specialists', workers: '2', specialists: [{ name: 'e', runDir: 'e', columns: eyes.columns, epochs: 1.5 }] }, 'workers: Expected number, received string; specialists[0].epochs: Expected integer, received float'],
    ];
    for (const [value, expected] of cases) {
      writeFileSync(file, JSON.stringify(value));
      const [code, message] = await codeAndMessage(readSpecialistsManifest(dir));
      expect(code).toBe('DATA_FORMAT');
      expect(message).toContain(`${file}: not a specialists manifest: ${expected}`);
      expect(message).not.toContain('\n');
    }
  });
});
