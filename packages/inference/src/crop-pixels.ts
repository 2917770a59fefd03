import { IMAGE_PIXELS, IMAGE_SIZE } from '@keypoints/core';
import type { CropBox } from '@keypoints/data';

/**
 * Pure-JavaScript pixel work for the browser path (no sharp, no `node:` import): colour → grey as libvips'
 * `b-w` makes it (what the Node path's sharp `.greyscale()` does), and the training crop — edge padding, then
 * a separable lanczos3 resample to 96 × 96 like libvips' `reduce` (the kernel widened by the shrink factor,
 * sample centres aligned), or a centre-aligned Catmull-Rom cubic to enlarge. It matches `cropFaceImage` of
 * `@keypoints/data` to about one grey level when shrinking (sharp), exactly when enlarging.
 */

const SRGB_TO_LINEAR = new Float64Array(256);
for (let i = 0; i < 256; i++) {
  const v = i / 255;
  SRGB_TO_LINEAR[i] = v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function linearToSrgb(y: number): number {
  const v = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.min(255, Math.max(0, Math.round(v * 255)));
}

/**
 * RGBA (canvas `ImageData.data`) or RGB bytes → 8-bit grey, `[height × width]`: luminance of the linear
 * sRGB values (Rec. 709 weights), encoded back with the sRGB curve — libvips' sRGB → `b-w`. A grey pixel
 * (R = G = B) keeps its value.
 *
 * @param channels 4 for RGBA (alpha ignored), 3 for RGB.
 */
export function toGrey(data: ArrayLike<number>, width: number, height: number, channels: 3 | 4 = 4): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = data[i * channels];
    const g = data[i * channels + 1];
    const b = data[i * channels + 2];
    out[i] = r === g && g === b ? r : linearToSrgb(0.2126 * SRGB_TO_LINEAR[r] + 0.7152 * SRGB_TO_LINEAR[g] + 0.0722 * SRGB_TO_LINEAR[b]);
  }
  return out;
}

/** RGBA bytes → RGB bytes (alpha dropped), what face detectors take. */
export function rgbaToRgb(data: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = data[4 * i];
    out[3 * i + 1] = data[4 * i + 1];
    out[3 * i + 2] = data[4 * i + 2];
  }
  return out;
}

/** Catmull-Rom cubic (a = −0.5): libvips' bicubic interpolator, what `cropFaceImage` enlarges with. */
function cubic(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return 1.5 * a * a * a - 2.5 * a * a + 1;
  if (a < 2) return -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2;
  return 0;
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** Per output sample: first input index and normalized weights (input indices clamped to [0, n − 1]). */
function weights(inSize: number, outSize: number): Array<{ index: Int32Array; weight: Float64Array }> {
  const scale = inSize / outSize;
  // Shrinking: lanczos3 widened by the factor (libvips' reduce); enlarging: bicubic (as cropFaceImage).
  const kernel = scale >= 1 ? lanczos3 : cubic;
  const support = scale > 1 ? 3 * scale : 2;
  const stretch = scale > 1 ? scale : 1;
  const rows: Array<{ index: Int32Array; weight: Float64Array }> = [];
  for (let o = 0; o < outSize; o++) {
    // Sample centres aligned (pixel-centre convention) both ways, as in `cropFaceImage` of `@keypoints/data`:
    // libvips' `reduce` when shrinking; when enlarging, its own centre-aligned Catmull-Rom, which this equals
    // exactly (not sharp's resize, which lands the content half an output pixel right of and below this).
    const centre = (o + 0.5) * scale - 0.5;
    const first = Math.ceil(centre - support);
    const last = Math.floor(centre + support);
    const idx: number[] = [];
    const w: number[] = [];
    let sum = 0;
    for (let i = first; i <= last; i++) {
      const k = kernel((i - centre) / stretch);
      if (k === 0) continue;
      idx.push(Math.min(inSize - 1, Math.max(0, i)));
      w.push(k);
      sum += k;
    }
    rows.push({ index: Int32Array.from(idx), weight: Float64Array.from(w, (v) => v / sum) });
  }
  return rows;
}

/**
 * The 96 × 96 grey training crop of a face: the square `crop` (photo pixels, may extend past the photo:
 * edge pixels repeated, as `cropFaceImage` of `@keypoints/data` pads), resampled with lanczos3 (vertical
 * pass then horizontal, rounded to bytes in between, as libvips does for 8-bit images).
 *
 * @param grey `[height × width]` 8-bit grey photo (see {@link toGrey}).
 * @returns `[96 × 96]` bytes, row-major.
 */
export function cropGreyFace(grey: ArrayLike<number>, width: number, height: number, crop: CropBox): Uint8Array {
  const { left, top, side } = crop;
  const col = (x: number): number => Math.min(width - 1, Math.max(0, left + x));
  const row = (y: number): number => Math.min(height - 1, Math.max(0, top + y));
  // Vertical pass: side columns × 96 rows.
  const vw = weights(side, IMAGE_SIZE);
  const mid = new Uint8Array(IMAGE_SIZE * side);
  const cols = Int32Array.from({ length: side }, (_, x) => col(x));
  for (let o = 0; o < IMAGE_SIZE; o++) {
    const { index, weight } = vw[o];
    const rowBases = Array.from(index, (i) => row(i) * width);
    for (let x = 0; x < side; x++) {
      let acc = 0;
      for (let k = 0; k < index.length; k++) acc += weight[k] * grey[rowBases[k] + cols[x]];
      mid[o * side + x] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  // Horizontal pass.
  const hw = weights(side, IMAGE_SIZE);
  const out = new Uint8Array(IMAGE_PIXELS);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let o = 0; o < IMAGE_SIZE; o++) {
      const { index, weight } = hw[o];
      let acc = 0;
      for (let k = 0; k < index.length; k++) acc += weight[k] * mid[y * side + index[k]];
      out[y * IMAGE_SIZE + o] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}
