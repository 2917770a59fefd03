import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE } from '@keypoints/core';
import { toCropPixels, type CropBox } from './crop-rule.js';
import { cropFaceImage, enlargeCentred } from './landmarks.converter.js';

/**
 * The converter's coordinate math, pinned on the pixels: a small bright blob drawn at a known sub-pixel position
 * of a source image must land, after `cropFaceImage` (crop, edge padding, resize to 96 × 96), where `toCropPixels`
 * puts a keypoint at that position. Pixel-centre convention: source pixel `i` is centred at `i`.
 */

/** A dark source image with a Gaussian blob (σ in source pixels) centred at `(x0, y0)`. */
function blobImage(width: number, height: number, x0: number, y0: number, sigma: number): Uint8Array {
  const img = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      img[y * width + x] = Math.round(10 + 240 * Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma * sigma)));
    }
  }
  return img;
}

/** Intensity centroid of a 96 × 96 crop above its background level (10). */
function centroid(pixels: Uint8Array): [number, number] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const v = Math.max(0, pixels[y * IMAGE_SIZE + x] - 10);
      s += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return [sx / s, sy / s];
}

describe('cropFaceImage puts the pixels where toCropPixels puts the keypoints', () => {
  // Sides below 96 enlarge, above shrink; 96 is the identity. Corners are off the origin, one crop leaves the image.
  const cases: Array<{ box: CropBox; blob: [number, number] }> = [
    { box: { left: 17, top: 9, side: 40 }, blob: [35.3, 30.8] },
    { box: { left: 20, top: 30, side: 61 }, blob: [47.62, 58.17] },
    { box: { left: 5, top: 12, side: 86 }, blob: [41.25, 60.9] },
    { box: { left: 33, top: 21, side: 95 }, blob: [81.4, 62.35] },
    { box: { left: 10, top: 10, side: 96 }, blob: [50.3, 57.8] },
    { box: { left: 40, top: 2, side: 97 }, blob: [90.71, 50.2] },
    { box: { left: 3, top: 25, side: 137 }, blob: [70.4, 91.66] },
    { box: { left: -20, top: -10, side: 190 }, blob: [88.5, 101.25] },
  ];
  for (const { box, blob } of cases) {
    it(`side ${box.side}: blob at (${blob.join(', ')}) lands within 0.03 crop px of toCropPixels`, async () => {
      const [width, height] = [240, 220];
      // σ = 2.5 crop pixels whatever the scale, so the blob is resolved on both sides of the resize.
      const sigma = (2.5 * box.side) / IMAGE_SIZE;
      const pixels = await cropFaceImage(blobImage(width, height, blob[0], blob[1], sigma), width, height, 1, box);
      const [ex, ey] = toCropPixels(blob, box);
      const [cx, cy] = centroid(pixels);
      expect(Math.abs(cx - ex), `x: centroid ${cx.toFixed(3)}, keypoint ${ex.toFixed(3)}`).toBeLessThan(0.03);
      expect(Math.abs(cy - ey), `y: centroid ${cy.toFixed(3)}, keypoint ${ey.toFixed(3)}`).toBeLessThan(0.03);
    });
  }
});

describe('enlargeCentred', () => {
  it('keeps a constant image constant and maps a linear ramp to the centre-aligned ramp', () => {
    const side = 48;
    expect(enlargeCentred(new Uint8Array(side * side).fill(77), side, 96).every((v) => v === 77)).toBe(true);
    // Ramp v = 40 + 2·x: output pixel o (away from the clamped edges) samples x = (o + 0.5) / 2 − 0.5.
    const ramp = new Uint8Array(side * side);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) ramp[y * side + x] = 40 + 2 * x;
    const out = enlargeCentred(ramp, side, 96);
    for (const o of [4, 5, 50, 51, 90]) expect(out[30 * 96 + o]).toBe(Math.round(40 + 2 * ((o + 0.5) / 2 - 0.5)));
  });

  it('rejects a side that does not enlarge', () => {
    expect(() => enlargeCentred(new Uint8Array(96 * 96), 96, 96)).toThrow(RangeError);
  });
});
