import { ConfigError, IMAGE_PIXELS } from '@keypoints/core';
import type { SeededRandom } from '@keypoints/core';
import type { Augmentation, MutableBatch } from '../augmentation.js';

/** Options of {@link PhotometricAugmentation}. Ranges are symmetric and drawn uniformly. */
export interface PhotometricAugmentationOptions {
  /** Largest brightness shift in intensity units ([0, 1] images): drawn from `[−maxBrightness, maxBrightness)`. In [0, 1]. Default 0.1. */
  readonly maxBrightness?: number;
  /** Largest relative contrast change: the factor is drawn from `[1 − maxContrast, 1 + maxContrast)`. In [0, 1). Default 0.3. */
  readonly maxContrast?: number;
  /** Chance that a sample is changed at all (one draw per sample), in [0, 1]. Default 1. */
  readonly probability?: number;
}

/**
 * Random brightness and contrast changes of training faces (not in Nouri 2014; the photometric
 * half of the usual landmark augmentation). Per sample, after one `probability` draw, a contrast
 * factor `c` and a brightness shift `b` are drawn (3 draws per sample, always); every pixel `p` of the
 * `[96, 96, 1]` image becomes `clamp((p − mean) · c + mean + b, 0, 1)`, `mean` the image's mean
 * intensity. Keypoints and masks are unchanged (no geometry moves).
 *
 * @throws {ConfigError} in the constructor on a range outside its bounds.
 * @example
 * ```ts
 * new BatchIterator(train, { augmentations: [new FlipAugmentation(), new PhotometricAugmentation({ maxBrightness: 0.1, maxContrast: 0.3 })] });
 * ```
 */
export class PhotometricAugmentation implements Augmentation {
  readonly name = 'photometric';
  private readonly maxBrightness: number;
  private readonly maxContrast: number;
  private readonly probability: number;

  constructor(options: PhotometricAugmentationOptions = {}) {
    const { maxBrightness = 0.1, maxContrast = 0.3, probability = 1 } = options;
    if (!(maxBrightness >= 0 && maxBrightness <= 1)) throw new ConfigError(`photometric augmentation: maxBrightness must be in [0, 1], got ${maxBrightness}`);
    if (!(maxContrast >= 0 && maxContrast < 1)) throw new ConfigError(`photometric augmentation: maxContrast must be in [0, 1), got ${maxContrast}`);
    if (!(probability >= 0 && probability <= 1)) throw new ConfigError(`photometric augmentation: probability must be in [0, 1], got ${probability}`);
    this.maxBrightness = maxBrightness;
    this.maxContrast = maxContrast;
    this.probability = probability;
  }

  apply(batch: MutableBatch, rng: SeededRandom): void {
    const { images, size } = batch;
    for (let i = 0; i < size; i++) {
      const apply = rng.next() < this.probability;
      const c = 1 + this.maxContrast * (2 * rng.next() - 1);
      const b = this.maxBrightness * (2 * rng.next() - 1);
      if (!apply) continue;
      photometricSample(images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), c, b);
    }
  }
}

/**
 * Change one image's contrast by `contrast` about its mean and shift its brightness by `brightness`,
 * in place, clamped to [0, 1]. `(1, 0)` leaves it unchanged.
 */
export function photometricSample(image: Float32Array, contrast: number, brightness: number): void {
  let sum = 0;
  for (let p = 0; p < image.length; p++) sum += image[p] as number;
  const mean = sum / image.length;
  const offset = mean * (1 - contrast) + brightness;
  for (let p = 0; p < image.length; p++) {
    const v = (image[p] as number) * contrast + offset;
    image[p] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}
