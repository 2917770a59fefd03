import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS, KAGGLE_COLUMNS } from '@keypoints/core';
import { SAMPLE_DIR } from './test-paths.js';

function readCsvGz(name: string): string[][] {
  const text = gunzipSync(readFileSync(path.join(SAMPLE_DIR, name))).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((l) => l.split(','));
}

describe('embedded sample packages/sample-data/data (made by make-sample.ts)', () => {
  const training = readCsvGz('training.csv.gz');
  const test = readCsvGz('test.csv.gz');
  const testKeypoints = readCsvGz('test_keypoints.csv.gz');

  it('has the Kaggle layouts and the documented counts', () => {
    expect(training[0]).toEqual([...KAGGLE_COLUMNS, 'Image', 'Identity']);
    expect(test[0]).toEqual(['ImageId', 'Image', 'Identity']);
    expect(testKeypoints[0]).toEqual([...KAGGLE_COLUMNS, 'ImageId', 'Identity']);
    expect(training).toHaveLength(1 + 1048);
    expect(test).toHaveLength(1 + 200);
    expect(testKeypoints).toHaveLength(1 + 200);
    expect(new Set(training.slice(1).map((r) => r[31])).size).toBe(262);
    expect(new Set(test.slice(1).map((r) => r[2])).size).toBe(50);
  });

  it('shares no identity between training and test', () => {
    const trainIds = new Set(training.slice(1).map((r) => r[31]));
    const testIds = new Set(test.slice(1).map((r) => r[2]));
    expect([...testIds].filter((id) => trainIds.has(id))).toEqual([]);
  });

  it('aligns test_keypoints rows with test ImageIds', () => {
    test.slice(1).forEach((r, i) => {
      expect(r[0]).toBe(String(i + 1));
      expect(testKeypoints[i + 1][30]).toBe(r[0]);
      expect(testKeypoints[i + 1][31]).toBe(r[2]);
    });
  });

  it('holds complete keypoints inside the 96 × 96 frame and 9216 pixels per image', () => {
    for (const r of [...training.slice(1), ...testKeypoints.slice(1)]) {
      const kp = r.slice(0, 30).map(Number);
      expect(kp.every((v) => v >= 0 && v <= 96)).toBe(true);
    }
    for (const r of [training[1], training[training.length - 1], test[1]]) {
      const px = (r.length === 32 ? r[30] : r[1]).split(' ');
      expect(px).toHaveLength(IMAGE_PIXELS);
    }
  });
});
