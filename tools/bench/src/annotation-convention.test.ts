import { describe, expect, it } from 'vitest';
import {
  bandPass,
  bilinear,
  clusteredFit,
  clusteredMean,
  darkCentroid,
  distanceFromAxis,
  gaussianBlur,
  gradientEyeCentre,
  parabolaVertex,
  symmetryAxis,
  type GrayImage,
} from './annotation-convention.js';

/** Sample `f` at every pixel centre `(i, j)` (pixel-centre convention). */
function render(width: number, height: number, f: (x: number, y: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) data[j * width + i] = f(i, j);
  return { width, height, data };
}

/**
 * A face-like pattern, mirror-symmetric about the line through `(a, cy)` at roll `angle` (the axis normal is
 * `(cos angle, sin angle)`): two dark "eyes", a "nose", a "mouth", a lighting-free texture made of even functions
 * of the distance from the axis, and a lighting ramp along the axis (which keeps the symmetry).
 */
function symmetricFace(width: number, height: number, a: number, cy: number, angle = 0): GrayImage {
  const nx = Math.cos(angle);
  const ny = Math.sin(angle);
  return render(width, height, (x, y) => {
    const across = (x - a) * nx + (y - cy) * ny; // signed distance from the axis
    const along = -(x - a) * ny + (y - cy) * nx;
    const s = Math.abs(across);
    const g = (u: number, v: number, su: number, sv: number) => Math.exp(-((u * u) / (2 * su * su) + (v * v) / (2 * sv * sv)));
    return (
      150 +
      0.3 * along -
      90 * g(s - 14, along + 10, 3.2, 2.1) + // eyes
      40 * g(s - 17, along + 17, 6, 1.5) + // brows (bright here, any sign works)
      -50 * g(s, along - 4, 2.5, 5) + // nose
      -60 * g(s, along - 15, 9, 1.8) + // mouth
      12 * Math.cos(0.9 * s) * Math.cos(0.37 * along) + // texture, even in `across`
      8 * Math.cos(0.5 * s + 0.01 * s * s)
    );
  });
}

describe('symmetryAxis', () => {
  it('recovers a known sub-pixel vertical axis', () => {
    for (const a of [40.3, 41.0, 41.5, 39.77]) {
      const img = symmetricFace(84, 80, a, 40);
      const axis = symmetryAxis(img, { centre: [42, 40], halfWidth: 24, halfHeight: 22, search: 6 });
      expect(axis).toBeDefined();
      expect(Math.abs(axis!.x - a)).toBeLessThan(0.01);
      expect(axis!.cost / axis!.edgeCost).toBeLessThan(0.05);
    }
  });

  it('recovers a tilted axis, and the signed distance of a point from it', () => {
    const angle = 0.12;
    const img = symmetricFace(96, 96, 47.6, 45.2, angle);
    const axis = symmetryAxis(img, { centre: [48.5, 46], angle, halfWidth: 24, halfHeight: 22, search: 5 });
    expect(axis).toBeDefined();
    // The point of the true axis at the row of the found point.
    expect(distanceFromAxis(axis!, 47.6, 45.2)).toBeCloseTo(0, 1);
    // A point 2 px right of the true axis (along its normal) is +2 from the found axis.
    expect(distanceFromAxis(axis!, 47.6 + 2 * Math.cos(angle), 45.2 + 2 * Math.sin(angle))).toBeCloseTo(2, 1);
  });

  it('follows the image: a 1-pixel shift and a mirror image move the axis exactly so (band-passed first)', () => {
    const a = 40.37;
    const img = bandPass(symmetricFace(84, 80, a, 40), 1, 8);
    const shifted = bandPass(symmetricFace(84, 80, a + 1, 40), 1, 8);
    const opts = { centre: [42, 40] as [number, number], halfWidth: 24, halfHeight: 22, search: 6 };
    const base = symmetryAxis(img, opts)!;
    expect(symmetryAxis(shifted, opts)!.x - base.x).toBeCloseTo(1, 1);
    // Array reversal maps pixel i to W − 1 − i, so the axis goes to W − 1 − a.
    const mirrored: GrayImage = render(84, 80, (x, y) => img.data[y * 84 + (83 - x)]);
    const back = symmetryAxis(mirrored, { ...opts, centre: [83 - 42, 40] })!;
    expect(back.x).toBeCloseTo(83 - base.x, 2);
  });

  it('gives up when the minimum is at the end of the search range', () => {
    const img = symmetricFace(84, 80, 39, 40);
    expect(symmetryAxis(img, { centre: [42, 40], halfWidth: 20, halfHeight: 20, search: 2 })).toBeUndefined();
    expect(symmetryAxis(img, { centre: [42, 40], halfWidth: 20, halfHeight: 20, search: 4 })!.x).toBeCloseTo(39, 2);
  });
});

/** A dark disc of radius `r` centred at `(x0, y0)` on a bright background, anti-aliased by 8 × 8 supersampling. */
function disc(width: number, height: number, x0: number, y0: number, r: number): GrayImage {
  return render(width, height, (x, y) => {
    let inside = 0;
    for (let u = 0; u < 8; u++) {
      for (let v = 0; v < 8; v++) {
        const px = x - 0.5 + (u + 0.5) / 8;
        const py = y - 0.5 + (v + 0.5) / 8;
        if ((px - x0) ** 2 + (py - y0) ** 2 <= r * r) inside++;
      }
    }
    return 220 - (170 * inside) / 64;
  });
}

describe('eye-centre estimators', () => {
  it('darkCentroid finds a dark disc to a few hundredths of a pixel from an offset start', () => {
    const img = disc(60, 50, 30.37, 25.81, 5);
    const c = darkCentroid(img, [28.5, 27.2], 7)!;
    expect(Math.abs(c.x - 30.37)).toBeLessThan(0.05);
    expect(Math.abs(c.y - 25.81)).toBeLessThan(0.05);
  });

  it('gradientEyeCentre (Timm & Barth) finds a dark disc to about a tenth of a pixel', () => {
    for (const [x0, y0] of [
      [30.37, 25.81],
      [29.6, 24.2],
    ]) {
      const img = gaussianBlur(disc(60, 50, x0, y0, 5), 0.8);
      const c = gradientEyeCentre(img, [29, 26], 5)!;
      expect(Math.abs(c.x - x0)).toBeLessThan(0.15);
      expect(Math.abs(c.y - y0)).toBeLessThan(0.15);
    }
  });

  it('both return undefined at the image border', () => {
    const img = disc(30, 30, 3, 15, 4);
    expect(darkCentroid(img, [3, 15], 6)).toBeUndefined();
    expect(gradientEyeCentre(img, [3, 15], 4)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('bilinear interpolates between pixel centres and clamps outside', () => {
    const img = render(3, 2, (x, y) => 10 * x + 100 * y);
    expect(bilinear(img, 0.25, 0.5)).toBeCloseTo(52.5, 10);
    expect(bilinear(img, -3, 7)).toBe(100);
  });

  it('parabolaVertex finds the vertex of a sampled parabola', () => {
    const f = (x: number) => 3 * (x - 0.3) ** 2 + 1;
    expect(parabolaVertex(f(-1), f(0), f(1))).toBeCloseTo(0.3, 10);
  });

  it('clusteredMean averages clusters first', () => {
    const m = clusteredMean([1, 1, 1, 1, 5, NaN], ['a', 'a', 'a', 'a', 'b', 'b']);
    expect(m.mean).toBe(3);
    expect(m.clusters).toBe(2);
    expect(m.n).toBe(5);
    expect(m.se).toBeCloseTo(2, 10); // sd of (1, 5) = 2.83, / sqrt 2
  });

  it('clusteredFit recovers a line, with a standard error that grows with within-cluster correlation', () => {
    const x: number[] = [];
    const y: number[] = [];
    const ids: string[] = [];
    for (let c = 0; c < 40; c++) {
      const shift = ((c * 7919) % 13) / 13 - 0.5; // one offset per cluster
      for (let k = 0; k < 5; k++) {
        const xi = c + k / 5;
        x.push(xi);
        y.push(1.5 + 0.25 * xi + shift);
        ids.push(`id${c}`);
      }
    }
    const fit = clusteredFit(x, y, ids);
    expect(fit.intercept).toBeCloseTo(1.5, 0);
    expect(fit.slope).toBeCloseTo(0.25, 2);
    const naive = clusteredFit(x, y, x.map((_, i) => `row${i}`));
    expect(fit.interceptSe).toBeGreaterThan(1.5 * naive.interceptSe);
  });
});
