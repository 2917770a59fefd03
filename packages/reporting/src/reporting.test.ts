import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError, DataNotFoundError } from '@keypoints/core';
import { historyToCsv, readHistory, writeFileAtomic, writeHistory, type HistoryRow } from '@keypoints/core/node';
import { learningCurveSvg } from './index.js';

const rows: HistoryRow[] = Array.from({ length: 20 }, (_, e) => ({
  epoch: e,
  trainLoss: 0.01 / (e + 1),
  trainRmsePx: Math.sqrt(0.01 / (e + 1)) * 48,
  validLoss: 0.012 / (e + 1),
  validRmsePx: Math.sqrt(0.012 / (e + 1)) * 48,
  learningRate: 0.01,
  momentum: 0.9,
  durationMs: 100,
}));

describe('reporting', () => {
  it('writes history.json and history.csv with 1-based epochs in the CSV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-rep-'));
    await writeHistory(dir, rows);
    const json = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8'));
    expect(json).toHaveLength(20);
    expect(json[3].validRmsePx).toBeCloseTo(rows[3].validRmsePx, 10);
    const csv = (await readFile(join(dir, 'history.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,train_rmse_px,valid_rmse_px,learning_rate,momentum,duration_ms');
    expect(csv).toHaveLength(21);
    expect(csv[1].split(',')[0]).toBe('1');
    expect(Number(csv[20].split(',')[4])).toBeCloseTo(rows[19].validRmsePx, 8);
    // no temp files left behind
    expect((await readdir(dir)).sort()).toEqual(['history.csv', 'history.json']);
  });

  it('reads history.json back, NaN (written as null) included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-rep-'));
    await writeHistory(dir, [rows[0], { ...rows[1], validLoss: NaN, validRmsePx: NaN }]);
    const back = await readHistory(dir);
    expect(back[0]).toEqual(rows[0]);
    expect(back[1].validLoss).toBeNaN();
    expect(back[1].trainLoss).toBe(rows[1].trainLoss);
    await expect(readHistory(join(dir, 'nope'))).rejects.toThrow(DataNotFoundError);
    await writeFileAtomic(join(dir, 'history.json'), '{"epoch": 0}');
    await expect(readHistory(dir)).rejects.toThrow(DataFormatError);
  });

  it('leaves NaN (no validation set) as empty CSV fields', () => {
    const csv = historyToCsv([{ ...rows[0], validLoss: NaN, validRmsePx: NaN }]);
    expect(csv.split('\n')[1].split(',')[2]).toBe('');
  });

  it('renders a log-scale learning curve SVG with both splits', async () => {
    const svg = await learningCurveSvg([{ name: 'net1', rows }], { title: 'net1' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('RMSE (pixels');
    expect(svg).toContain('validation');
    expect(svg).toContain('train');
    // two line paths (train, validation)
    expect((svg.match(/role-mark/g) ?? []).length).toBeGreaterThan(0);
  });

  it('overwrites atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-rep-'));
    const f = join(dir, 'a', 'b.txt');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    expect(await readFile(f, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a'))).toEqual(['b.txt']);
  });
});
