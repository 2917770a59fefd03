import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS, SeededRandom } from '@keypoints/core';
import { PhotometricAugmentation, photometricSample } from './photometric.augmentation.js';

const image = () => Float32Array.from({ length: IMAGE_PIXELS }, (_, i) => (i % 97) / 96);

describe('PhotometricAugmentation', () => {
  it('changes contrast about the image mean and shifts brightness, clamped to [0, 1]; (1, 0) is the identity', () => {
    const a = image();
    photometricSample(a, 1, 0);
    expect(a).toEqual(image());
    const b = image();
    const mean = b.reduce((s, v) => s + v, 0) / b.length;
    photometricSample(b, 0.5, 0.05);
    const i = 10;
    expect(b[i]).toBeCloseTo((image()[i]! - mean) * 0.5 + mean + 0.05, 5);
    const c = image();
    photometricSample(c, 1, 0.9);
    expect(Math.max(...c)).toBe(1);
    expect(Math.min(...c)).toBeGreaterThanOrEqual(0);
  });

  it('draws per sample from the seeded rng (same seed → same batch), leaves keypoints and mask alone', () => {
    const batch = () => ({ size: 2, images: new Float32Array([...image(), ...image()]), targets: new Float32Array(60).fill(0.25), mask: new Float32Array(60).fill(1) });
    const aug = new PhotometricAugmentation({ maxBrightness: 0.2, maxContrast: 0.5 });
    const [x, y] = [batch(), batch()];
    aug.apply(x, new SeededRandom(5));
    aug.apply(y, new SeededRandom(5));
    expect(x.images).toEqual(y.images);
    expect(x.images).not.toEqual(batch().images);
    // The two samples got different draws.
    expect(x.images.subarray(0, IMAGE_PIXELS)).not.toEqual(x.images.subarray(IMAGE_PIXELS));
    expect(x.targets).toEqual(batch().targets);
    expect(x.mask).toEqual(batch().mask);
    expect(() => new PhotometricAugmentation({ maxContrast: 1 })).toThrow(/maxContrast/);
    expect(() => new PhotometricAugmentation({ probability: 2 })).toThrow(/probability/);
  });
});
