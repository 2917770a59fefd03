import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FACE_DETECTORS,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  KAGGLE_KEYPOINTS,
  container,
  resolveFaceDetector,
  silentLogger,
  type FaceBox,
  type FaceDetector,
  type RgbImage,
} from '@keypoints/core';
import { convertLandmarkImage, cropBoxFor, cropFaceImage, ibug68ToKaggle, readLandmarkCsv, toCropPixels, type LandmarkRecord } from '@keypoints/data';
import { buildFullyConnected, saveModel } from '@keypoints/models';
import { TrainConfigSchema } from '@keypoints/pipeline';
import { sharedData } from '@keypoints/test-support';
import { cropForDetectorBox, cropForGivenBox, cropToPhotoPixels, photoToCropNormalized } from './face-crop.js';
import { readPhoto } from './photo.js';
import { predictCrops, predictPhotos, photoPredictionsToCsv, readBoxesFile, PHOTO_CSV_HEADER } from './predict-photos.js';
import { loadPredictor, type KeypointPredictor } from './predictor.js';

describe('face crop mapping (photo pixels ↔ crop)', () => {
  it('cropToPhotoPixels inverts toCropPixels (the converter) and photoToCropNormalized', () => {
    const crop = { left: -7, top: 13, side: 157 };
    const photo = Float64Array.from({ length: 30 }, (_, i) => 20 + 3.7 * i);
    const cropPx = toCropPixels(photo, crop);
    const normalized = cropPx.map((u) => (u - 48) / 48);
    const back = cropToPhotoPixels(normalized, crop);
    for (let i = 0; i < 30; i++) expect(back[i]).toBeCloseTo(photo[i], 9);
    const again = photoToCropNormalized(photo, crop);
    for (let i = 0; i < 30; i++) expect(again[i]).toBeCloseTo(normalized[i], 9);
  });

  it('a given 96×96 box on a 96×96 image is the identity; a non-square box becomes its centred square', () => {
    expect(cropForGivenBox([0, 0, 96, 96])).toEqual({ left: 0, top: 0, side: 96 });
    const px = cropToPhotoPixels([0, 0, -1, 1], { left: 0, top: 0, side: 96 });
    expect(Array.from(px)).toEqual([48, 48, 0, 96]);
    expect(cropForGivenBox([10, 20, 100, 80])).toEqual({ left: 10, top: 10, side: 100 });
  });

  it('cropForDetectorBox: identity rule = the box (square), offsets in units of (w + h) / 2', () => {
    expect(cropForDetectorBox([10, 20, 100, 100], { scale: 1, offsetX: 0, offsetY: 0 })).toEqual({ left: 10, top: 20, side: 100 });
    expect(cropForDetectorBox([10, 20, 100, 100], { scale: 1.5, offsetX: 0.1, offsetY: -0.2 })).toEqual({ left: -5, top: -25, side: 150 });
  });
});

/** A predictor that returns fixed normalized keypoints for every face (so the mapping can be checked exactly). */
function fixedPredictor(normalized: ArrayLike<number>): KeypointPredictor & { calls: number } {
  const p = {
    kind: 'model' as const,
    dir: '/fixed',
    columns: KAGGLE_COLUMNS,
    members: [],
    calls: 0,
    predict(images: Float32Array, count: number): Float32Array {
      expect(images.length).toBe(count * IMAGE_PIXELS);
      p.calls++;
      const out = new Float32Array(count * 30);
      for (let i = 0; i < count; i++) out.set(Array.from(normalized), i * 30);
      return out;
    },
    dispose() {},
  };
  return p;
}

/** A detector that must not be called (for the given-box path). */
const refusingDetector: FaceDetector = {
  name: 'refusing',
  priority: 0,
  description: 'fails the test when called',
  cropRule: { scale: 1, offsetX: 0, offsetY: 0 },
  detect(): Promise<FaceBox[]> {
    throw new Error('detect() called although boxes were given');
  },
};

const shared = sharedData({ files: ['youtube_faces_p1/test_frames_keypoints.csv', 'youtube_faces_p1/test'], what: 'photo → keypoints tests on real P1 photos' });

describe.skipIf(!shared.available)('predictPhotos on real P1 test photos', () => {
  let dir: string;
  let records: LandmarkRecord[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-photos-'));
    const all = await readLandmarkCsv(shared.path('youtube_faces_p1', 'test_frames_keypoints.csv'), shared.path('youtube_faces_p1', 'test'));
    records = all.slice(0, 3);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('round trip: the true training crop (--box) and a predictor returning the true crop keypoints give back the photo landmarks', async () => {
    for (const r of records) {
      const crop = cropBoxFor(r.points);
      const truthPhoto = ibug68ToKaggle(r.points); // [30] photo pixels
      const truthNormalized = Array.from(toCropPixels(truthPhoto, crop), (u) => (u - 48) / 48);
      const predictor = fixedPredictor(truthNormalized);
      const { photos } = await predictPhotos([r.imagePath], {
        predictor,
        detector: refusingDetector,
        boxes: [[crop.left, crop.top, crop.side, crop.side]],
        logger: silentLogger,
      });
      const face = photos[0].faces[0];
      expect(face.crop).toEqual([crop.left, crop.top, crop.side]);
      expect(face.score).toBe(1);
      KAGGLE_KEYPOINTS.forEach((name, k) => {
        expect(face.keypoints[name]![0]).toBeCloseTo(truthPhoto[2 * k], 2);
        expect(face.keypoints[name]![1]).toBeCloseTo(truthPhoto[2 * k + 1], 2);
      });
    }
  });

  it('the crop fed to the model is the training crop of the converter, pixel for pixel', async () => {
    const r = records[0];
    const converted = await convertLandmarkImage(r);
    let seen: Float32Array | undefined;
    const predictor = { ...fixedPredictor(new Float32Array(30)), predict: (images: Float32Array, count: number) => ((seen = images.slice()), new Float32Array(count * 30)) };
    const photo = await readPhoto(r.imagePath);
    await predictCrops(photo, [{ box: [0, 0, 1, 1], score: 1, crop: converted.box }], predictor);
    expect(Array.from(seen!, (v) => Math.round(v * 255))).toEqual(Array.from(converted.pixels));
  });

  it('JSON contract with a saved net1 model and a DI-registered detector; keypoints = crop-frame prediction mapped back; --draw PNG has the photo size', async () => {
    const runDir = join(dir, 'net1');
    await saveModel(buildFullyConnected({ seed: 1 }), join(runDir, 'model'));
    await writeFile(join(runDir, 'config.json'), JSON.stringify(TrainConfigSchema.parse({ model: 'net1', epochs: 1, backend: 'wasm' })));
    // A stand-in detector registered under FACE_DETECTORS: a fixed box in the middle of the photo.
    const detector: FaceDetector = {
      name: 'landmark-box',
      priority: 1,
      description: 'test detector',
      cropRule: { scale: 1.1, offsetX: 0, offsetY: -0.1 },
      async detect(image: RgbImage): Promise<FaceBox[]> {
        return [{ x: image.width * 0.2, y: image.height * 0.15, width: image.width * 0.6, height: image.height * 0.65, score: 0.9 }];
      },
    };
    const host = container.createChildContainer();
    host.register(FACE_DETECTORS, { useValue: detector });
    const resolved = resolveFaceDetector(host);
    expect(resolved.name).toBe('landmark-box');

    const files = records.map((r) => r.imagePath);
    const predictor = await loadPredictor(runDir, { logger: silentLogger });
    const drawDir = join(dir, 'drawn');
    const result = await predictPhotos(files, { predictor, detector: resolved, drawDir, logger: silentLogger });
    expect(result.photos.map((p) => p.file)).toEqual(files);
    const json = JSON.parse(JSON.stringify(result.photos)) as Array<Record<string, unknown>>;
    for (const [i, entry] of json.entries()) {
      const photo = await readPhoto(files[i]);
      expect(entry).toMatchObject({ file: files[i], width: photo.width, height: photo.height });
      const faces = entry.faces as Array<{ box: number[]; score: number; crop: number[]; keypoints: Record<string, [number, number]> }>;
      expect(faces).toHaveLength(1);
      expect(faces[0].box).toHaveLength(4);
      expect(faces[0].score).toBeCloseTo(0.9, 6);
      expect(Object.keys(faces[0].keypoints)).toEqual([...KAGGLE_KEYPOINTS]);
      // The mapping: the model's crop-frame prediction, transformed to photo pixels.
      const crop = cropForDetectorBox(faces[0].box as unknown as [number, number, number, number], detector.cropRule);
      expect(faces[0].crop).toEqual([crop.left, crop.top, crop.side]);
      const pixels = await cropFaceImage(photo.grey, photo.width, photo.height, 1, crop);
      const normalized = predictor.predict(Float32Array.from(pixels, (v) => v / 255), 1);
      const expected = cropToPhotoPixels(normalized, crop);
      KAGGLE_KEYPOINTS.forEach((name, k) => {
        expect(faces[0].keypoints[name][0]).toBeCloseTo(expected[2 * k], 2);
        expect(faces[0].keypoints[name][1]).toBeCloseTo(expected[2 * k + 1], 2);
      });
      const meta = await sharp(result.drawn[i]).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', photo.width, photo.height]);
    }
    predictor.dispose();
    const csv = photoPredictionsToCsv(result.photos).trim().split('\n');
    expect(csv[0]).toBe(PHOTO_CSV_HEADER.join(','));
    expect(csv).toHaveLength(1 + files.length);
    expect(csv[1].split(',')).toHaveLength(7 + 30);
  });

  it('a boxes file keyed by file name: listed photos skip detection, others are detected', async () => {
    const file = join(dir, 'boxes.json');
    const name = records[0].name;
    await writeFile(file, JSON.stringify({ [name]: [[0, 0, 50, 50]] }));
    const boxes = await readBoxesFile(file);
    const calls: string[] = [];
    const detector: FaceDetector = { ...refusingDetector, detect: async (img) => (calls.push(`${img.width}x${img.height}`), []) };
    const { photos, withoutFace } = await predictPhotos([records[0].imagePath, records[1].imagePath], {
      predictor: fixedPredictor(new Float32Array(30)),
      detector,
      boxes,
      logger: silentLogger,
    });
    expect(calls).toHaveLength(1);
    expect(photos[0].faces[0].box).toEqual([0, 0, 50, 50]);
    expect(photos[1].faces).toEqual([]);
    expect(withoutFace).toBe(1);
    expect(JSON.parse(await readFile(file, 'utf8'))).toBeTruthy();
  });
});
