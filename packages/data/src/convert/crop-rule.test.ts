import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { KAGGLE_COLUMNS } from '@keypoints/core';
import {
  DEFAULT_CROP_RULE,
  calibrateCropRule,
  cropBoxFor,
  kaggleKeypointMeans,
  landmarkBox,
  landmarksToKaggleKeypoints,
  type CropRule,
} from './crop-rule.js';
import { ibug68ToKaggle } from './ibug68.js';
import { readLandmarkCsv, type LandmarkRecord } from './landmark-csv.js';
import { sharedData } from '@keypoints/test-support';
import { KAGGLE_KEYPOINTS_CSV, P1_DIR } from './test-paths.js';

const real = sharedData({
  files: ['kaggle/training_keypoints_only.csv', 'youtube_faces_p1/training_frames_keypoints.csv', 'youtube_faces_p1/test_frames_keypoints.csv'],
  what: 'the two calibration tests on real data',
});

async function p1Records(split: 'training' | 'test'): Promise<LandmarkRecord[]> {
  return readLandmarkCsv(path.join(P1_DIR, `${split}_frames_keypoints.csv`), path.join(P1_DIR, split));
}

function meanKeypoints(records: readonly LandmarkRecord[], rule: CropRule): { means: Float64Array; outside: number } {
  const sums = new Float64Array(KAGGLE_COLUMNS.length);
  let outside = 0;
  for (const r of records) {
    const { keypoints } = landmarksToKaggleKeypoints(r.points, rule);
    keypoints.forEach((v, i) => {
      sums[i] += v;
      if (v < 0 || v > 96) outside++;
    });
  }
  return { means: sums.map((s) => s / records.length), outside };
}

function table(title: string, target: Float64Array, actual: Float64Array): string {
  const rows = KAGGLE_COLUMNS.map(
    (c, i) =>
      `${c.padEnd(28)} ${target[i].toFixed(2).padStart(7)} ${actual[i].toFixed(2).padStart(7)} ${(actual[i] - target[i] >= 0 ? '+' : '') + (actual[i] - target[i]).toFixed(2)}`,
  );
  return [`${title}`, `${'column'.padEnd(28)} ${'Kaggle'.padStart(7)} ${'conv.'.padStart(7)} diff`, ...rows].join('\n');
}

describe('crop rule calibration (real data)', () => {
  it.skipIf(!real.available)('puts every keypoint mean of the FULL P1 set within 3 px of the Kaggle means (default rule)', async () => {
    const records = [...(await p1Records('training')), ...(await p1Records('test'))];
    expect(records).toHaveLength(3111 + 693);
    const kaggle = await kaggleKeypointMeans(KAGGLE_KEYPOINTS_CSV, { rows: 'complete' });
    expect(kaggle.counts[0]).toBe(2140);
    const { means, outside } = meanKeypoints(records, DEFAULT_CROP_RULE);
    const diffs = means.map((m, i) => m - kaggle.means[i]);
    console.log(
      `${table(`Full P1 set (${records.length} faces) vs Kaggle complete rows (2140), default rule ${JSON.stringify(DEFAULT_CROP_RULE)}`, kaggle.means, means)}\n` +
        `max |diff| ${Math.max(...diffs.map(Math.abs)).toFixed(2)} px; values outside 0..96: ${outside} of ${records.length * 30}`,
    );
    for (let i = 0; i < diffs.length; i++) expect(Math.abs(diffs[i]), KAGGLE_COLUMNS[i]).toBeLessThan(3);
    expect(outside).toBeLessThan(records.length * 30 * 0.001);

    // For information: the per-column means over all present values mix in the 4755 four-keypoint rows.
    const present = await kaggleKeypointMeans(KAGGLE_KEYPOINTS_CSV, { rows: 'present' });
    console.log(table('Same, vs Kaggle per-column means over all present values (informational)', present.means, means));
  });

  it.skipIf(!real.available)('recomputes the default rule from the P1 training CSV (least squares)', async () => {
    const kaggle = await kaggleKeypointMeans(KAGGLE_KEYPOINTS_CSV, { rows: 'complete' });
    const cal = calibrateCropRule(
      (await p1Records('training')).map((r) => r.points),
      kaggle.means,
    );
    expect(cal.faces).toBe(3111);
    expect(cal.rule.scale).toBeCloseTo(DEFAULT_CROP_RULE.scale, 4);
    expect(cal.rule.offsetX).toBeCloseTo(DEFAULT_CROP_RULE.offsetX, 4);
    expect(cal.rule.offsetY).toBeCloseTo(DEFAULT_CROP_RULE.offsetY, 4);
    expect(cal.maxAbsResidual).toBeLessThan(2.5);
    expect(cal.rmsResidual).toBeLessThan(1.3);
  });

  it('recovers a known rule from synthetic faces', () => {
    // Random faces; targets = their exact mean converted positions under a known rule (continuous model:
    // u = 96 × ((p − c) / S − offset) / scale + 48).
    let seed = 1;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const faces = Array.from({ length: 50 }, () => Float64Array.from({ length: 136 }, () => 50 + 100 * rnd()));
    const known: CropRule = { scale: 1.3, offsetX: 0.05, offsetY: -0.1 };
    const targets = new Float64Array(30);
    for (const p of faces) {
      const box = landmarkBox(p);
      const kp = ibug68ToKaggle(p);
      for (let c = 0; c < 30; c++) {
        const centre = c % 2 === 0 ? box.cx : box.cy;
        const offset = c % 2 === 0 ? known.offsetX : known.offsetY;
        targets[c] += ((96 * ((kp[c] - centre) / box.size - offset)) / known.scale + 48) / faces.length;
      }
    }
    const cal = calibrateCropRule(faces, targets);
    expect(cal.rule.scale).toBeCloseTo(1.3, 8);
    expect(cal.rule.offsetX).toBeCloseTo(0.05, 8);
    expect(cal.rule.offsetY).toBeCloseTo(-0.1, 8);
    expect(cal.maxAbsResidual).toBeLessThan(1e-8);
    // The rounded crop box of one face follows the rule.
    const box = cropBoxFor(faces[0], known);
    expect(box.side).toBe(Math.round(1.3 * landmarkBox(faces[0]).size));
  });

  it('rejects degenerate input', () => {
    expect(() => calibrateCropRule([], new Float64Array(30))).toThrow(/at least one face/);
    expect(() => calibrateCropRule([new Float64Array(136)], new Float64Array(29))).toThrow(/30 values/);
  });
});
