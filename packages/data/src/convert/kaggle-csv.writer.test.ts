// Tests of ../kaggle-csv.writer.ts (kept in convert/ with the converter that uses it).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, IMAGE_PIXELS, KAGGLE_COLUMNS } from '@keypoints/core';
import { formatKeypoint, writeKaggleCsv } from '../kaggle-csv.writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-writer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function images(count: number): Uint8Array {
  const a = new Uint8Array(count * IMAGE_PIXELS);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7) % 256;
  return a;
}

describe('writeKaggleCsv', () => {
  it('writes the training layout: 30 columns, Image, Identity; ≤ 4 decimals; NaN → empty', async () => {
    const keypoints = new Float32Array(2 * 30).fill(48);
    keypoints[0] = 66.03356391;
    keypoints[1] = NaN;
    keypoints[31] = 30;
    const file = path.join(dir, 'training.csv');
    const result = await writeKaggleCsv(file, { count: 2, keypoints, images: images(2), identities: ['A', 'B, Jr.'] });
    expect(result.rows).toBe(2);
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[0]).toBe([...KAGGLE_COLUMNS, 'Image', 'Identity'].join(','));
    const f = lines[1].split(',');
    expect(f[0]).toBe('66.0336');
    expect(f[1]).toBe('');
    expect(f[2]).toBe('48');
    expect(f[30].split(' ')).toHaveLength(IMAGE_PIXELS);
    expect(f[30].startsWith('0 7 14 21')).toBe(true);
    expect(f[31]).toBe('A');
    expect(lines[2].endsWith(',"B, Jr."')).toBe(true);
    expect(lines[3]).toBe('');
    expect(lines).toHaveLength(4);
    expect(result.bytes).toBeGreaterThan(2 * IMAGE_PIXELS);
  });

  it('maps a subset of columns by name, leaving the others empty, and can omit Image', async () => {
    const file = path.join(dir, 'subset.csv');
    await writeKaggleCsv(file, { count: 1, columns: ['nose_tip_y', 'nose_tip_x'], keypoints: Float64Array.of(60, 48.5) });
    const [header, row] = (await readFile(file, 'utf8')).split('\n');
    expect(header).toBe(KAGGLE_COLUMNS.join(','));
    const f = row.split(',');
    expect(f[KAGGLE_COLUMNS.indexOf('nose_tip_x')]).toBe('48.5');
    expect(f[KAGGLE_COLUMNS.indexOf('nose_tip_y')]).toBe('60');
    expect(f.filter((v) => v === '')).toHaveLength(28);
  });

  it('writes the test layout ImageId,Image[,Identity], gzipped by extension, atomically', async () => {
    const file = path.join(dir, 'nested', 'test.csv.gz');
    await writeKaggleCsv(file, { count: 3, images: images(3), identities: ['x', 'y', 'z'] });
    const raw = await readFile(file);
    expect(raw[0]).toBe(0x1f);
    expect(raw[1]).toBe(0x8b);
    const lines = gunzipSync(raw).toString('utf8').split('\n');
    expect(lines[0]).toBe('ImageId,Image,Identity');
    expect(lines.slice(1, 4).map((l) => l.split(',')[0])).toEqual(['1', '2', '3']);
    expect(lines[3].split(',')[2]).toBe('z');
    expect((await readdir(path.dirname(file))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // Same input, same bytes.
    await writeKaggleCsv(`${file}.again.gz`, { count: 3, images: images(3), identities: ['x', 'y', 'z'] });
    expect((await readFile(`${file}.again.gz`)).equals(raw)).toBe(true);
  });

  it('keeps the previous file whole when a row fails midway through the write', async () => {
    const file = path.join(dir, 'midway.csv');
    await writeKaggleCsv(file, { count: 2, images: images(2) }, { format: 'test' });
    const before = await readFile(file, 'utf8');
    // Rows 0..39 are valid (over 1 MB, so they reach the temporary file); row 40 has a bad pixel.
    const pixels = Array.from(images(41));
    pixels[40 * IMAGE_PIXELS + 7] = 256;
    await expect(writeKaggleCsv(file, { count: 41, images: pixels }, { format: 'test' })).rejects.toThrow(/row 40: pixel 7/);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(dir)).filter((n) => n.includes('midway'))).toEqual(['midway.csv']);
  });

  it('leaves no file behind when the table is invalid', async () => {
    const file = path.join(dir, 'bad.csv');
    const bad = Array.from({ length: IMAGE_PIXELS }, () => 300);
    await expect(writeKaggleCsv(file, { count: 1, images: bad }, { format: 'test' })).rejects.toThrow(/integer 0\.\.255/);
    expect((await readdir(dir)).filter((n) => n.startsWith('bad') || n.startsWith('.bad'))).toEqual([]);
  });

  it('can add an ImageId column to the training layout (keypoints of a test file)', async () => {
    const file = path.join(dir, 'test_keypoints.csv');
    await writeKaggleCsv(
      file,
      { count: 2, keypoints: new Float32Array(60).fill(1.5), imageIds: [7, 9], identities: ['p', 'q'] },
      { imageId: true },
    );
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[0]).toBe([...KAGGLE_COLUMNS, 'ImageId', 'Identity'].join(','));
    expect(lines[2].split(',').slice(29)).toEqual(['1.5', '9', 'q']);
  });

  it('validates shapes and columns', async () => {
    const file = path.join(dir, 'never.csv');
    await expect(writeKaggleCsv(file, { count: 2, keypoints: new Float32Array(30) })).rejects.toThrow(ConfigError);
    await expect(writeKaggleCsv(file, { count: 1, keypoints: new Float32Array(30), images: new Uint8Array(10) })).rejects.toThrow(/9216/);
    await expect(writeKaggleCsv(file, { count: 1, columns: ['ear_x'], keypoints: [1] })).rejects.toThrow(/not a Kaggle keypoint column/);
    await expect(writeKaggleCsv(file, { count: 1 }, { format: 'test' })).rejects.toThrow(/needs images/);
  });

  it('formats keypoints like Kaggle', () => {
    expect(formatKeypoint(66.0335639098)).toBe('66.0336');
    expect(formatKeypoint(45)).toBe('45');
    expect(formatKeypoint(-0.00001)).toBe('0');
    expect(formatKeypoint(NaN)).toBe('');
    expect(() => formatKeypoint(Infinity)).toThrow(ConfigError);
  });
});
