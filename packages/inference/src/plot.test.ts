import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError, DataNotFoundError, SPECIALIST_KEYPOINT_SETS, silentLogger, type Logger } from '@keypoints/core';
import sharp from 'sharp';
import { plotRuns, readSpecialistCurves } from './plot.js';

/** Hand-written history.json rows: validation RMSE `valid(e)` px, training 0.8 × that (loss = (px / 48)²). */
function history(epochs: number, valid: (e: number) => number) {
  return Array.from({ length: epochs }, (_, e) => ({
    epoch: e,
    trainLoss: ((0.8 * valid(e)) / 48) ** 2,
    trainRmsePx: 0.8 * valid(e),
    validLoss: (valid(e) / 48) ** 2,
    validRmsePx: valid(e),
    learningRate: 0.01,
    momentum: 0.9,
    durationMs: 5,
  }));
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 1));
}

/** A folder of six specialist runs (histories only, 50 … 300 epochs) with its specialists.json. */
async function specialistsFolder(root: string, name = 'specialists'): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const entries = [];
  for (const [k, set] of SPECIALIST_KEYPOINT_SETS.entries()) {
    await mkdir(join(dir, set.name));
    await writeJson(join(dir, set.name, 'history.json'), history(50 * (k + 1), (e) => 1.5 + k * 0.2 + 2 * Math.exp(-e / 30)));
    entries.push({ name: set.name, runDir: set.name, columns: set.columns, epochs: 50 * (k + 1) });
  }
  await writeJson(join(dir, 'specialists.json'), { kind: 'specialists', specialists: entries });
  return dir;
}

describe('keypoints plot with specialists (hand-written histories, no training)', () => {
  it('writes specialists-curves.svg/png for a folder with specialists.json, beside a normal run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kp-plot-sp-'));
    const specialists = await specialistsFolder(root);
    const net1 = join(root, 'net1');
    await mkdir(net1);
    // JSON writes NaN as null: a run without validation
    await writeJson(join(net1, 'history.json'), history(20, () => 3).map((r) => ({ ...r, validLoss: null, validRmsePx: null })));
    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, warn: (m: string) => void warnings.push(m) };

    const { files } = await plotRuns([net1, specialists], { outDir: join(root, 'out'), logger });
    expect(files.map((f) => basename(f))).toEqual(['learning-curves.svg', 'learning-curves.png', 'specialists-curves.svg', 'specialists-curves.png']);
    const svg = await readFile(join(root, 'out', 'specialists-curves.svg'), 'utf8');
    for (const set of SPECIALIST_KEYPOINT_SETS) expect(svg).toContain(`${set.name} (${set.columns.length})`);
    expect(svg).toContain('mean');
    expect(svg).toContain('RMSE (px)');
    const png = await sharp(join(root, 'out', 'specialists-curves.png')).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBeGreaterThan(640);
    // the learning-curve chart holds net1 only; no face grid (no model), one warning for net1
    const curves = await readFile(join(root, 'out', 'learning-curves.svg'), 'utf8');
    expect(curves).toContain('net1');
    expect(curves).not.toContain('eye_center');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('net1');
  });

  it('reads each specialist’s history and output count from the manifest', async () => {
    const dir = await specialistsFolder(await mkdtemp(join(tmpdir(), 'kp-plot-sp-')));
    const curves = await readSpecialistCurves(dir);
    expect(curves.map((c) => [c.name, c.outputs, c.rows.length])).toEqual([
      ['eye_center', 4, 50],
      ['nose_tip', 2, 100],
      ['mouth_corners_top_lip', 6, 150],
      ['mouth_bottom_lip', 2, 200],
      ['eye_corners', 8, 250],
      ['eyebrows', 8, 300],
    ]);
    expect(curves[0].rows[0].validLoss).toBeCloseTo(((1.5 + 2) / 48) ** 2, 12);
  });

  it('names the chart after each folder when several specialist folders are plotted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kp-plot-several-'));
    const a = await specialistsFolder(root, 'masked');
    const b = await specialistsFolder(root, 'dropna');
    const c = await specialistsFolder(await mkdtemp(join(tmpdir(), 'kp-plot-other-')), 'masked');
    const { files } = await plotRuns([a, b, c], { outDir: join(root, 'out'), logger: silentLogger, faces: 0 });
    expect(files.map((f) => basename(f))).toEqual([
      'masked-specialists-curves.svg',
      'masked-specialists-curves.png',
      'dropna-specialists-curves.svg',
      'dropna-specialists-curves.png',
      'masked-2-specialists-curves.svg', // same folder name twice: numbered, not overwritten
      'masked-2-specialists-curves.png',
    ]);
  });

  it('fails with the file when a manifest or a specialist history is bad', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kp-plot-bad-'));
    await expect(readSpecialistCurves(root)).rejects.toThrow(DataNotFoundError);
    await writeFile(join(root, 'specialists.json'), '{ not json');
    await expect(readSpecialistCurves(root)).rejects.toThrow(DataFormatError);
    await writeJson(join(root, 'specialists.json'), { kind: 'runs', specialists: [] });
    await expect(readSpecialistCurves(root)).rejects.toThrow(/kind/);
    await writeJson(join(root, 'specialists.json'), { kind: 'specialists', specialists: [{ name: 'eye_center', runDir: 'eye_center' }] });
    await expect(readSpecialistCurves(root)).rejects.toThrow(/columns/);
    await writeJson(join(root, 'specialists.json'), {
      kind: 'specialists',
      specialists: [{ name: 'eye_center', runDir: 'eye_center', columns: SPECIALIST_KEYPOINT_SETS[0].columns }],
    });
    await expect(readSpecialistCurves(root)).rejects.toThrow(DataNotFoundError);
    await expect(readSpecialistCurves(root)).rejects.toThrow(join(root, 'eye_center', 'history.json'));
  });
});
