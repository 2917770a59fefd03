/**
 * face-api's 68-point landmark net on the labelled face of a P1 photo, shared by `photo-nme.ts` and
 * `annotation-check.ts`: the node-wasm build on the host's @tensorflow/tfjs (as in
 * @keypoints/detector-face-api), its tiny face detector with the plugin's settings (input 416, min score,
 * an edge-replicated border of `DEFAULT_PADDING` × the larger side, a second try at `DEFAULT_RETRY_PADDING`
 * when nothing is found), then `withFaceLandmarks()`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '@keypoints/core';
import { landmarkBox, type LandmarkRecord } from '@keypoints/data';
import { DEFAULT_MIN_SCORE, DEFAULT_PADDING, DEFAULT_RETRY_PADDING, edgePadded } from '@keypoints/detector-face-api';
import { readPhoto } from '@keypoints/inference';

/** face-api's tiny detector input size (the detector plugin's). */
export const TINY_INPUT_SIZE = 416;

interface FaceApiLandmarkResult {
  readonly detection: { readonly score: number; readonly box: { x: number; y: number; width: number; height: number } };
  readonly landmarks: { readonly positions: ReadonlyArray<{ x: number; y: number }> };
}
interface FaceApi {
  readonly nets: { readonly tinyFaceDetector: { isLoaded: boolean; loadFromDisk(d: string): Promise<void> }; readonly faceLandmark68Net: { isLoaded: boolean; loadFromDisk(d: string): Promise<void> } };
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): { withFaceLandmarks(): PromiseLike<FaceApiLandmarkResult[]> };
}

/** A box (edge coordinates `[x, y, w, h]`) whose centre lies in the labelled face's landmark box. */
export function onLabelledFace(box: readonly number[], r: LandmarkRecord): boolean {
  const lm = landmarkBox(r.points);
  const cx = box[0]! + box[2]! / 2 - 0.5;
  const cy = box[1]! + box[3]! / 2 - 0.5;
  return cx >= lm.minX && cx <= lm.maxX && cy >= lm.minY && cy <= lm.maxY;
}

/**
 * Load face-api's tiny detector and 68-point net (weights from its npm package) and return a function giving,
 * for a photo's landmark record, the 68 points (136 values, x then y, photo pixels as face-api returns them:
 * already pixel-centred, see packages/sample-data/data/README.md) of the best-scoring face whose box centre
 * lies on the labelled face; `undefined` when none is found.
 */
export async function loadFaceApi68(): Promise<(r: LandmarkRecord) => Promise<Float64Array | undefined>> {
  const require = createRequire(import.meta.url);
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  if (!api.nets.tinyFaceDetector.isLoaded) await api.nets.tinyFaceDetector.loadFromDisk(modelDir);
  if (!api.nets.faceLandmark68Net.isLoaded) await api.nets.faceLandmark68Net.loadFromDisk(modelDir);
  const options = new api.TinyFaceDetectorOptions({ inputSize: TINY_INPUT_SIZE, scoreThreshold: DEFAULT_MIN_SCORE });
  return async (r) => {
    const photo = await readPhoto(r.imagePath);
    let faces = await landmarksPadded(api, photo.rgb, DEFAULT_PADDING, options);
    if (faces.length === 0) faces = await landmarksPadded(api, photo.rgb, DEFAULT_RETRY_PADDING, options);
    return faces.filter((f) => onLabelledFace(f.box, r)).sort((a, b) => b.score - a.score)[0]?.points;
  };
}

async function landmarksPadded(api: FaceApi, image: RgbImage, fraction: number, options: unknown) {
  const { input, pad } = edgePadded(image, fraction);
  try {
    const found = await api.detectAllFaces(input, options).withFaceLandmarks();
    return found.map((f) => {
      const b = f.detection.box;
      const points = new Float64Array(136);
      f.landmarks.positions.forEach((q, k) => {
        points[2 * k] = q.x - pad;
        points[2 * k + 1] = q.y - pad;
      });
      return { box: [b.x - pad, b.y - pad, b.width, b.height], score: f.detection.score, points };
    });
  } finally {
    input.dispose();
  }
}
