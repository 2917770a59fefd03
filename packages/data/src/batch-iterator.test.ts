import { describe, expect, it } from 'vitest';
import { ConfigError, FULL_KEYPOINT_SET, IMAGE_PIXELS } from '@keypoints/core';
import type { KeypointSet, SeededRandom } from '@keypoints/core';
import type { Augmentation, MutableBatch } from './augmentation.js';
import { BatchIterator } from './batch-iterator.js';
import type { Batch } from './dataset.js';
import { rowIdOf, syntheticDataset } from './test-fixtures.js';

const ids = (batch: Batch) => Array.from({ length: batch.size }, (_, i) => rowIdOf(batch.images, i));
const epochIds = (it: BatchIterator, e: number) => [...it.epoch(e)].flatMap(ids);

describe('BatchIterator', () => {
  const ds = syntheticDataset(300);

  it('covers every row exactly once per epoch, with a short last batch', () => {
    const it = new BatchIterator(ds, { batchSize: 128 });
    expect(it.batchesPerEpoch).toBe(3);
    expect(it.count).toBe(300);
    const batches = [...it.epoch(0)];
    expect(batches.map((b) => b.size)).toEqual([128, 128, 44]);
    expect(batches[2].images.length).toBe(44 * IMAGE_PIXELS);
    expect(batches[2].targets.length).toBe(44 * 30);
    expect(batches[2].mask.length).toBe(44 * 30);
    const seen = batches.flatMap(ids);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // targets travel with their images
    const b = batches[1];
    for (let i = 0; i < b.size; i++) {
      const r = rowIdOf(b.images, i);
      expect(Array.from(b.targets.subarray(i * 30, i * 30 + 30))).toEqual(Array.from(ds.targets.subarray(r * 30, r * 30 + 30)));
    }
  });

  it('gives the same order for the same (seed, epoch), another one for another epoch or seed', () => {
    const a = new BatchIterator(ds, { seed: 5 });
    const b = new BatchIterator(ds, { seed: 5 }); // e.g. a resumed run
    const e3 = epochIds(a, 3);
    expect(epochIds(b, 3)).toEqual(e3);
    expect(epochIds(a, 3)).toEqual(e3); // iterating an epoch twice
    expect(epochIds(a, 4)).not.toEqual(e3);
    expect(epochIds(a, 0)).not.toEqual(epochIds(a, 1));
    expect(epochIds(new BatchIterator(ds, { seed: 6 }), 3)).not.toEqual(e3);
    expect(e3).not.toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(Array.from(a.epochOrder(3))).toEqual(e3);
  });

  it('keeps file order without shuffle (views of the dataset)', () => {
    const it = new BatchIterator(ds, { batchSize: 100, shuffle: false });
    expect(epochIds(it, 0)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(epochIds(it, 9)).toEqual(epochIds(it, 0));
  });

  it('applies augmentations to copies of the batch, never to the dataset', () => {
    const original = ds.images.slice();
    const calls: Array<{ size: number; set: KeypointSet; draw: number }> = [];
    const darken: Augmentation = {
      name: 'darken',
      apply(batch: MutableBatch, rng: SeededRandom, set: KeypointSet) {
        calls.push({ size: batch.size, set, draw: rng.next() });
        for (let i = 0; i < batch.size; i++) batch.images[i * IMAGE_PIXELS] = -1;
        batch.targets.fill(-7);
      },
    };
    const it = new BatchIterator(ds, { batchSize: 128, augmentations: [darken] });
    const batches = [...it.epoch(0)];
    expect(calls.map((c) => c.size)).toEqual([128, 128, 44]);
    expect(calls.every((c) => c.set === FULL_KEYPOINT_SET)).toBe(true);
    for (const b of batches) {
      for (let i = 0; i < b.size; i++) expect(b.images[i * IMAGE_PIXELS]).toBe(-1);
      expect(b.targets.every((t) => t === -7)).toBe(true);
      expect(b.images.buffer).not.toBe(ds.images.buffer);
    }
    expect(Buffer.compare(new Uint8Array(ds.images.buffer), new Uint8Array(original.buffer))).toBe(0);
    expect(ds.targets.includes(-7)).toBe(false);
    // the augmentation draws are seeded per epoch too
    const draws = calls.map((c) => c.draw);
    calls.length = 0;
    [...it.epoch(0)];
    expect(calls.map((c) => c.draw)).toEqual(draws);
    calls.length = 0;
    [...it.epoch(1)];
    expect(calls.map((c) => c.draw)).not.toEqual(draws);
  });

  it('rejects bad options', () => {
    expect(() => new BatchIterator(ds, { batchSize: 0 })).toThrow(ConfigError);
    expect(() => new BatchIterator(ds, { batchSize: 1.5 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new BatchIterator(ds, { seed: Number.NaN })).toThrow(/seed must be an integer/);
    expect(() => new BatchIterator(ds).epoch(-1)).toThrow(/epoch index must be a non-negative integer/);
    expect(
      () => new BatchIterator(ds, { augmentations: [{ name: 'broken' } as unknown as Augmentation] }),
    ).toThrow(/augmentation #1 \(broken\) has no apply/);
  });
});
