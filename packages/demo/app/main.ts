import * as tf from '@tensorflow/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
import { KAGGLE_KEYPOINTS } from '@keypoints/core';
import { createBrowserFaceApiDetector, type FaceApiModule } from '@keypoints/detector-face-api/browser';
import { loadKeypointModel, predictImageFaces, rgbaToRgb, toGrey, type FacePrediction } from '@keypoints/inference/browser';

/** What the page computed for the last picture (read by the e2e test). */
export interface DemoResult {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly backend: string;
  readonly detectMs: number;
  readonly predictMs: number;
  readonly faces: FacePrediction[];
}

declare global {
  interface Window {
    keypointsDemo: { ready: Promise<string>; result?: DemoResult; error?: string };
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $<HTMLSpanElement>('status');
const canvas = $<HTMLCanvasElement>('canvas');
const timings = $<HTMLParagraphElement>('timings');
const video = $<HTMLVideoElement>('video');

function setStatus(text: string, state: 'loading' | 'ready' | 'busy' | 'done' | 'error'): void {
  status.textContent = text;
  status.dataset.state = state;
  document.body.dataset.state = state;
}

const params = new URLSearchParams(location.search);
const detector = createBrowserFaceApiDetector(faceapi as unknown as FaceApiModule, { modelUrl: new URL('./face-api-model/', location.href).href });
let model: tf.LayersModel | undefined;

async function init(): Promise<string> {
  const wanted = params.get('backend') ?? 'webgl';
  if (!(await tf.setBackend(wanted).catch(() => false))) await tf.setBackend('cpu');
  await tf.ready();
  model = await loadKeypointModel(new URL('./default-model/model.json', location.href).href);
  // Load the detector's weights now (detect on a blank picture) so the first timing is the detection itself.
  await detector.detect({ data: new Uint8Array(32 * 32 * 3), width: 32, height: 32 });
  setStatus(`ready (tfjs ${tf.version.tfjs}, backend ${tf.getBackend()})`, 'ready');
  return tf.getBackend();
}

window.keypointsDemo = { ready: init() };
window.keypointsDemo.ready.catch((error: unknown) => {
  window.keypointsDemo.error = String(error);
  setStatus(`failed: ${String(error)}`, 'error');
});

async function run(source: CanvasImageSource, width: number, height: number, name: string): Promise<void> {
  await window.keypointsDemo.ready;
  setStatus(`detecting faces in ${name}…`, 'busy');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(source, 0, 0, width, height);
  const image = ctx.getImageData(0, 0, width, height);
  const t0 = performance.now();
  const boxes = await detector.detect({ data: rgbaToRgb(image.data, width, height), width, height });
  const t1 = performance.now();
  const faces = predictImageFaces(model!, image, boxes, { cropRule: detector.cropRule, grey: toGrey(image.data, width, height, 4) });
  const t2 = performance.now();
  const result: DemoResult = { name, width, height, backend: tf.getBackend(), detectMs: t1 - t0, predictMs: t2 - t1, faces };
  draw(ctx, faces, width);
  timings.textContent = `${faces.length} face(s) · detect ${result.detectMs.toFixed(1)} ms · predict ${result.predictMs.toFixed(1)} ms · backend ${result.backend} · ${width} × ${height}`;
  table(faces);
  window.keypointsDemo.result = result;
  canvas.dataset.keypoints = JSON.stringify(faces.map((f) => f.keypoints));
  setStatus(`done: ${name}`, 'done');
}

function draw(ctx: CanvasRenderingContext2D, faces: FacePrediction[], width: number): void {
  const r = Math.max(2, width / 200);
  ctx.lineWidth = Math.max(1, width / 400);
  for (const f of faces) {
    ctx.strokeStyle = '#22c55e';
    ctx.strokeRect(f.box[0], f.box[1], f.box[2], f.box[3]);
    ctx.strokeStyle = '#3b82f6';
    ctx.setLineDash([4, 3]);
    ctx.strokeRect(f.crop[0] - 0.5, f.crop[1] - 0.5, f.crop[2], f.crop[2]);
    ctx.setLineDash([]);
    ctx.fillStyle = '#ef4444';
    for (const k of KAGGLE_KEYPOINTS) {
      const p = f.keypoints[k];
      if (!p) continue;
      ctx.beginPath();
      // Pixel-centre convention: pixel column c spans [c − 0.5, c + 0.5]; canvas pixel c spans [c, c + 1].
      ctx.arc(p[0] + 0.5, p[1] + 0.5, r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function table(faces: FacePrediction[]): void {
  const rows = faces.flatMap((f, i) => KAGGLE_KEYPOINTS.map((k) => `<tr><td>${i}</td><th>${k}</th><td>${f.keypoints[k]?.[0].toFixed(2) ?? ''}</td><td>${f.keypoints[k]?.[1].toFixed(2) ?? ''}</td></tr>`));
  $<HTMLTableElement>('table').innerHTML = faces.length ? `<tr><th>face</th><th>keypoint</th><th>x</th><th>y</th></tr>${rows.join('')}` : '';
}

$<HTMLInputElement>('file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    // As the Node path decodes: EXIF orientation applied, no colour-profile conversion.
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    await run(bitmap, bitmap.width, bitmap.height, file.name);
    bitmap.close();
  } catch (error) {
    window.keypointsDemo.error = String(error);
    setStatus(`failed: ${String(error)}`, 'error');
  }
});

$<HTMLButtonElement>('webcam').addEventListener('click', async () => {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    video.hidden = false;
    $<HTMLButtonElement>('snap').hidden = false;
  } catch (error) {
    setStatus(`webcam not available: ${String(error)}`, 'error');
  }
});

$<HTMLButtonElement>('snap').addEventListener('click', () => {
  void run(video, video.videoWidth, video.videoHeight, 'webcam').catch((error: unknown) => setStatus(`failed: ${String(error)}`, 'error'));
});
