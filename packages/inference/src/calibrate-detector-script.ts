/**
 * Calibrate a face-detector plugin's box → training-crop mapping on the P1 (YouTube-Faces) photos, and
 * measure its detection rate:
 *
 *   npx tsx --conditions=@keypoints/source packages/inference/src/calibrate-detector-script.ts \
 *     [--detector @keypoints/detector-face-api] [--options '{"padding":0.5}'] [--split training|test] \
 *     [--limit N] [--backend wasm] [--data <shared/data>]
 *
 * `--detector` is a module whose default export is a detector factory `(options) => FaceDetector`;
 * `--limit N` takes N photos spread evenly over the split's rows (sorted by file name). Prints the
 * detection rate and the fitted `DetectorCropRule` with its error, as JSON.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FaceDetector } from '@keypoints/core';
import { readLandmarkCsv } from '@keypoints/data';
import { initBackend } from '@keypoints/pipeline';
import { calibrateDetectorCrop, detectionRate } from './calibrate-detector.js';

const { values } = parseArgs({
  options: {
    detector: { type: 'string', default: '@keypoints/detector-face-api' },
    options: { type: 'string', default: '{}' },
    split: { type: 'string', default: 'training' },
    limit: { type: 'string' },
    backend: { type: 'string' },
    data: { type: 'string', default: resolve('..', 'shared', 'data') },
  },
});
const dir = join(values.data!, 'youtube_faces_p1');
const all = (await readLandmarkCsv(join(dir, `${values.split}_frames_keypoints.csv`), join(dir, values.split!))).sort((a, b) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
);
const limit = values.limit === undefined ? all.length : Math.min(all.length, Number(values.limit));
const step = all.length / limit;
const records = Array.from({ length: limit }, (_, i) => all[Math.floor(i * step)]);
await initBackend(values.backend);
const mod = (await import(values.detector!)) as { default: (o: unknown) => FaceDetector };
const detector = mod.default(JSON.parse(values.options!));
const t0 = Date.now();
const rate = await detectionRate(detector, records, (done, total) => {
  if (done % 50 === 0) process.stderr.write(`${done}/${total}\n`);
});
const faces = records.flatMap((r, i) => {
  const b = rate.boxes[i];
  return b ? [{ box: [b.x, b.y, b.width, b.height] as const, points: r.points }] : [];
});
const calibration = faces.length > 0 ? calibrateDetectorCrop(faces) : undefined;
console.log(
  JSON.stringify(
    {
      detector: detector.name,
      description: detector.description,
      split: values.split,
      photos: rate.photos,
      detected: rate.detected,
      rate: rate.rate,
      msPerPhoto: Math.round((Date.now() - t0) / Math.max(1, rate.photos)),
      currentRule: detector.cropRule,
      calibration,
    },
    null,
    2,
  ),
);
detector.dispose?.();
