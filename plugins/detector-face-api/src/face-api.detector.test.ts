import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_DETECTORS, container, isKeypointsError, resolveBackend, resolveFaceDetector, type FaceDetector, type RgbImage } from '@keypoints/core';
import { registerWasmBackend } from '@keypoints/backend-wasm';
import { sharedData } from '@keypoints/test-support';
import { DEFAULT_PADDING, DEFAULT_RETRY_PADDING, FACE_API_CROP_RULES, createFaceApiDetector, registerFaceApiDetector } from './face-api.detector.js';

/** Photos tried: 20 spread evenly over the P1 test rows sorted by file name. */
const PHOTOS = 20;
/**
 * Lower bound on the share of those 20 photos where the labelled face is found with the default padding,
 * measured with the tiny detector (416, min score 0.3, padding 0.5, retry 1): 20/20 (16/20 without padding;
 * 19/20 with padding 0.5 and no retry); one photo of slack.
 */
const MIN_RATE_PADDED = 0.95;

describe('face-api detector options', () => {
  it('invalid options fail in the factory; the plugin registers under FACE_DETECTORS', () => {
    for (const bad of [{ minScore: 2 }, { inputSize: 100 }, { padding: -1 }, { model: 'yolo' as 'tiny' }]) {
      let error: unknown;
      try {
        createFaceApiDetector(bad);
      } catch (e) {
        error = e;
      }
      expect(isKeypointsError(error, 'CONFIG_INVALID'), JSON.stringify(bad)).toBe(true);
    }
    const host = registerFaceApiDetector(container.createChildContainer(), { model: 'ssd' });
    const d = resolveFaceDetector(host);
    expect(d.name).toBe('face-api-ssd');
    expect(d.cropRule).toBe(FACE_API_CROP_RULES.ssd);
    expect(host.resolveAll(FACE_DETECTORS)).toHaveLength(1);
  });
});

const shared = sharedData({ files: ['youtube_faces_p1/test_frames_keypoints.csv', 'youtube_faces_p1/test'], what: 'detection-rate test on real P1 photos' });

interface Labelled {
  readonly file: string;
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
}

async function rgbOf(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

async function rate(detector: FaceDetector, photos: readonly Labelled[]): Promise<number> {
  let found = 0;
  for (const p of photos) {
    const boxes = await detector.detect(await rgbOf(p.file));
    if (boxes.some((b) => b.x + b.width / 2 - 0.5 >= p.minX && b.x + b.width / 2 - 0.5 <= p.maxX && b.y + b.height / 2 - 0.5 >= p.minY && b.y + b.height / 2 - 0.5 <= p.maxY)) found++;
  }
  return found / photos.length;
}

describe.skipIf(!shared.available)('face-api detector on real P1 test photos (wasm backend)', () => {
  let photos: Labelled[];
  beforeAll(async () => {
    await resolveBackend(registerWasmBackend(container.createChildContainer(), { threads: 1 }), 'wasm');
    const rows = readFileSync(shared.path('youtube_faces_p1', 'test_frames_keypoints.csv'), 'utf8').trim().split('\n').slice(1);
    const all = rows
      .map((line) => {
        const f = line.split(',');
        const p = f.slice(1).map(Number);
        const xs = p.filter((_, i) => i % 2 === 0);
        const ys = p.filter((_, i) => i % 2 === 1);
        return { file: shared.path('youtube_faces_p1', 'test', f[0]), minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
      })
      .sort((a, b) => (a.file < b.file ? -1 : 1));
    photos = Array.from({ length: PHOTOS }, (_, i) => all[Math.floor((i * all.length) / PHOTOS)]);
  });

  it(`finds the labelled face on ≥ ${MIN_RATE_PADDED * 100} % of ${PHOTOS} photos with the default padding (and reports the rate without)`, async () => {
    const padded = createFaceApiDetector();
    const plain = createFaceApiDetector({ padding: 0, retryPadding: null });
    const withPadding = await rate(padded, photos);
    const without = await rate(plain, photos);
    console.info(`face-api tiny on ${PHOTOS} P1 test photos: ${(withPadding * 100).toFixed(0)} % with padding ${DEFAULT_PADDING} (retry ${DEFAULT_RETRY_PADDING}), ${(without * 100).toFixed(0)} % without`);
    expect(withPadding).toBeGreaterThanOrEqual(MIN_RATE_PADDED);
    expect(withPadding).toBeGreaterThanOrEqual(without);
    padded.dispose?.();
  });

  it('boxes are in the unpadded photo frame, sorted by score, scores in [0, 1]', async () => {
    const d = createFaceApiDetector();
    const image = await rgbOf(photos[0].file);
    const boxes = await d.detect(image);
    expect(boxes.length).toBeGreaterThan(0);
    for (let i = 1; i < boxes.length; i++) expect(boxes[i - 1].score).toBeGreaterThanOrEqual(boxes[i].score);
    const b = boxes[0];
    expect(b.score).toBeGreaterThan(0);
    expect(b.score).toBeLessThanOrEqual(1);
    expect(b.x + b.width / 2).toBeGreaterThan(0);
    expect(b.x + b.width / 2).toBeLessThan(image.width);
    expect(b.y + b.height / 2).toBeLessThan(image.height);
  });
});
