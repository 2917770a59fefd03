import { describe, expect, it } from 'vitest';
import { isKeypointsError } from '@keypoints/core';
import { KAGGLE_TEST_IMAGES, readYoutubeFacesFrames, selectTestFrames } from './kaggle-test-set.js';
import { sharedData } from '@keypoints/test-support';
import { P1_DIR } from './test-paths.js';

const p1 = sharedData({ files: ['youtube_faces_p1/training_frames_keypoints.csv', 'youtube_faces_p1/test_frames_keypoints.csv'] });

describe.skipIf(!p1.available)('Kaggle test.csv stand-in: frame selection', () => {
  it('pools both upstream splits without byte-identical duplicates and picks 1783 distinct frames of every identity', async () => {
    const { frames, duplicates } = await readYoutubeFacesFrames(P1_DIR);
    expect(frames.length + duplicates).toBe(3111 + 693);
    expect(new Set(frames.map((f) => `${f.split}/${f.record.name}`)).size).toBe(frames.length);
    const picked = selectTestFrames(frames, KAGGLE_TEST_IMAGES);
    expect(picked).toHaveLength(1783);
    expect(new Set(picked.map((r) => `${r.file}:${r.line}`)).size).toBe(1783);
    expect(new Set(picked.map((r) => r.identity)).size).toBe(new Set(frames.map((f) => f.record.identity)).size);
    // Deterministic for a seed, different for another.
    expect(selectTestFrames(frames, KAGGLE_TEST_IMAGES).map((r) => r.name)).toEqual(picked.map((r) => r.name));
    expect(selectTestFrames(frames, KAGGLE_TEST_IMAGES, 7).map((r) => r.name)).not.toEqual(picked.map((r) => r.name));
    for (const bad of [0, 1.5, frames.length + 1]) {
      let error: unknown;
      try {
        selectTestFrames(frames, bad);
      } catch (e) {
        error = e;
      }
      expect(isKeypointsError(error, 'CONFIG_INVALID'), String(bad)).toBe(true);
    }
  });
});
