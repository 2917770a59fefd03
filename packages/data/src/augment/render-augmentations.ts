/**
 * Visual check of the augmentations: renders real faces of the embedded sample — original, flipped,
 * affine-transformed, flipped then affine-transformed — 4× enlarged, with their keypoints drawn: the
 * subject's LEFT keypoints green (`L`), RIGHT red (`R`), centre line yellow. After a flip the green `L`
 * marks must sit on the features on the image's right again, exactly as in the original.
 *
 *   npx tsx --conditions=@keypoints/source packages/data/src/augment/render-augmentations.ts [--out /tmp/kp-aug] [--rows 3]
 *
 * Writes `<out>/face<N>.png` (one row of 4 panels per face). Dev tool, not exported.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { FULL_KEYPOINT_SET, IMAGE_PIXELS, IMAGE_SIZE, toPixels } from '@keypoints/core';
import type { MutableBatch } from '../augmentation.js';
import { affineTransformSample } from './affine.augmentation.js';
import { flipSamples } from './flip.augmentation.js';
import { batchOf, sampleFaces } from './test-helpers.js';

const ZOOM = 4;
const SIDE = IMAGE_SIZE * ZOOM;
const K = FULL_KEYPOINT_SET.columns.length;
const AFFINE = { dx: 5, dy: -4, rotationDeg: 12, scale: 1.08 };

const { values } = parseArgs({ options: { out: { type: 'string', default: '/tmp/kp-aug' }, rows: { type: 'string', default: '3' } } });
const out = values.out!;
const rows = Number(values.rows);
await mkdir(out, { recursive: true });
const faces = await sampleFaces(rows);

/** One panel: image 0 of `batch`, enlarged, with its keypoints and a caption. */
async function panel(batch: MutableBatch, caption: string): Promise<Buffer> {
  const grey = Buffer.alloc(IMAGE_PIXELS);
  for (let p = 0; p < IMAGE_PIXELS; p++) grey[p] = Math.round(Math.min(1, Math.max(0, batch.images[p])) * 255);
  // Pixel c is centred on x = c: its enlarged square is [c·Z, (c + 1)·Z], centre (c + 0.5)·Z.
  const at = (v: number) => (toPixels(v) + 0.5) * ZOOM;
  const marks = FULL_KEYPOINT_SET.columns
    .filter((c) => c.endsWith('_x'))
    .map((c, p) => {
      if (batch.mask[2 * p] === 0) return '';
      const x = at(batch.targets[2 * p]);
      const y = at(batch.targets[2 * p + 1]);
      const side = c.includes('left') ? 'L' : c.includes('right') ? 'R' : '';
      const colour = side === 'L' ? '#00ff00' : side === 'R' ? '#ff3030' : '#ffff00';
      return `<circle cx="${x}" cy="${y}" r="4" fill="${colour}" stroke="black"/>` +
        (side ? `<text x="${x + 5}" y="${y - 5}" font-size="13" font-family="sans-serif" font-weight="bold" fill="${colour}" stroke="black" stroke-width="0.5">${side}</text>` : '');
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIDE}" height="${SIDE}">${marks}` +
    `<rect x="0" y="${SIDE - 22}" width="${SIDE}" height="22" fill="black" opacity="0.6"/>` +
    `<text x="6" y="${SIDE - 6}" font-size="15" font-family="sans-serif" fill="white">${caption}</text></svg>`;
  return sharp(grey, { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } })
    .resize(SIDE, SIDE, { kernel: 'nearest' })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg) }])
    .png()
    .toBuffer();
}

for (let f = 0; f < rows; f++) {
  const original = batchOf(faces, f, 1);
  const flipped = batchOf(faces, f, 1);
  flipSamples(flipped, [0], FULL_KEYPOINT_SET);
  const affine = batchOf(faces, f, 1);
  affineTransformSample(affine, 0, AFFINE, FULL_KEYPOINT_SET);
  const both = batchOf(faces, f, 1);
  flipSamples(both, [0], FULL_KEYPOINT_SET);
  affineTransformSample(both, 0, AFFINE, FULL_KEYPOINT_SET);
  const panels = await Promise.all([
    panel(original, `original (row ${f + 1})`),
    panel(flipped, 'flipped'),
    panel(affine, `affine +${AFFINE.dx},${AFFINE.dy}px ${AFFINE.rotationDeg}° ×${AFFINE.scale}`),
    panel(both, 'flip, then affine'),
  ]);
  const file = path.join(out, `face${f + 1}.png`);
  await sharp({ create: { width: 4 * SIDE + 30, height: SIDE, channels: 3, background: '#404040' } })
    .composite(panels.map((input, i) => ({ input, left: i * (SIDE + 10), top: 0 })))
    .png()
    .toFile(file);
  console.log(file);
}
