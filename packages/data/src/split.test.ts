import { describe, expect, it } from 'vitest';
import { ConfigError, IMAGE_PIXELS } from '@keypoints/core';
import type { Dataset } from './dataset.js';
import { holdoutSplit, subsetDataset } from './split.js';
import { rowIdOf, syntheticDataset } from './test-fixtures.js';

const rowIds = (ds: Dataset) => Array.from({ length: ds.count }, (_, i) => rowIdOf(ds.images, i));

/** 40 subjects with uneven group sizes (about 1 to 50 rows), interleaved as in a real file. */
function identities(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `subject_${Math.floor(Math.sqrt((i * 7919) % 1600))}`);
}

describe('holdoutSplit', () => {
  it('holds out 20 % by default, every row on exactly one side', () => {
    const ds = syntheticDataset(2140);
    const { train, validation } = holdoutSplit(ds);
    expect(validation.count).toBe(428);
    expect(train.count).toBe(1712);
    const all = [...rowIds(train), ...rowIds(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 2140 }, (_, i) => i));
    // sourceRows, targets and masks travel with their images
    for (const side of [train, validation]) {
      for (let i = 0; i < side.count; i += 97) {
        const r = rowIdOf(side.images, i);
        expect(side.sourceRows[i]).toBe(r);
        expect(Array.from(side.targets.subarray(i * 30, i * 30 + 30))).toEqual(Array.from(ds.targets.subarray(r * 30, r * 30 + 30)));
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const ds = syntheticDataset(500);
    const a = holdoutSplit(ds, { seed: 7, fraction: 0.3 });
    const b = holdoutSplit(ds, { seed: 7, fraction: 0.3 });
    const c = holdoutSplit(ds, { seed: 8, fraction: 0.3 });
    expect(a.validation.count).toBe(150);
    expect(rowIds(a.validation)).toEqual(rowIds(b.validation));
    expect(rowIds(a.train)).toEqual(rowIds(b.train));
    expect(rowIds(a.validation)).not.toEqual(rowIds(c.validation));
    // shuffled, not the first rows of the file
    expect(rowIds(a.validation).slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('copies: changing a split never changes the source', () => {
    const ds = syntheticDataset(20);
    const { train } = holdoutSplit(ds);
    train.images.fill(-7);
    train.targets.fill(-7);
    expect(ds.images.includes(-7)).toBe(false);
    expect(ds.targets.includes(-7)).toBe(false);
  });

  it('keeps whole identities on one side with groupBy identity', () => {
    const ids = identities(1000);
    const ds = syntheticDataset(1000, ids);
    for (const seed of [1, 2, 42]) {
      const { train, validation } = holdoutSplit(ds, { groupBy: 'identity', seed });
      expect(train.count + validation.count).toBe(1000);
      const trainIds = new Set(train.identities);
      const validIds = new Set(validation.identities);
      expect([...validIds].filter((id) => trainIds.has(id))).toEqual([]);
      expect(validation.count).toBeGreaterThan(170);
      expect(validation.count).toBeLessThan(230);
      // identities still match their rows
      for (let i = 0; i < validation.count; i++) expect(validation.identities?.[i]).toBe(ids[rowIdOf(validation.images, i)]);
    }
    const again = holdoutSplit(ds, { groupBy: 'identity', seed: 2 });
    expect(rowIds(again.validation)).toEqual(rowIds(holdoutSplit(ds, { groupBy: 'identity', seed: 2 }).validation));
  });

  it('rejects bad options', () => {
    const ds = syntheticDataset(10);
    expect(() => holdoutSplit(ds, { fraction: 0 })).toThrow(ConfigError);
    expect(() => holdoutSplit(ds, { fraction: 1 })).toThrow(/fraction must be a number in \(0, 1\)/);
    expect(() => holdoutSplit(ds, { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => holdoutSplit(syntheticDataset(1))).toThrow(/leaves one side empty/);
    expect(() => holdoutSplit(ds, { groupBy: 'identity' })).toThrow(/needs a dataset with identities/);
    expect(() => holdoutSplit(syntheticDataset(3, ['x', 'x', 'x']), { groupBy: 'identity' })).toThrow(
      /needs at least 2 identities, the dataset has 1/,
    );
  });
});

describe('subsetDataset', () => {
  it('copies the given rows in order, with identities and source rows', () => {
    const ds = syntheticDataset(10, Array.from({ length: 10 }, (_, i) => `id${i}`));
    const sub = subsetDataset(ds, [7, 2, 2]);
    expect(sub.count).toBe(3);
    expect(rowIds(sub)).toEqual([7, 2, 2]);
    expect(sub.identities).toEqual(['id7', 'id2', 'id2']);
    expect(Array.from(sub.sourceRows)).toEqual([7, 2, 2]);
    expect(sub.images.length).toBe(3 * IMAGE_PIXELS);
    expect(Array.from(sub.mask.subarray(0, 30))).toEqual(Array.from(ds.mask.subarray(7 * 30, 8 * 30)));
  });

  it('rejects an index outside the dataset', () => {
    const ds = syntheticDataset(4);
    expect(() => subsetDataset(ds, [0, 4])).toThrow(/index 4 \(position 1\) is not a row of the dataset; expected an integer in \[0, 4\)/);
    expect(() => subsetDataset(ds, [-1])).toThrow(ConfigError);
  });
});
