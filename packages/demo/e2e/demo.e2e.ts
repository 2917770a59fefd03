import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAGGLE_KEYPOINTS, silentLogger } from '@keypoints/core';
import { DEFAULT_MODEL_DIR } from '@keypoints/default-model';
import { createFaceApiDetector } from '@keypoints/detector-face-api';
import { predictPhotos, type PhotoPrediction } from '@keypoints/inference';
import { saveModel } from '@keypoints/models';
import { MODEL_PRESET_NAMES, buildModel, resolveTrainConfig, type ModelPreset } from '@keypoints/pipeline';
import { REPO_ROOT, sharedData } from '@keypoints/test-support';
import type { DemoResult } from '../app/main.js';

/**
 * Real-browser test of the demo page: the built site (`nx run demo:build`, a dependency of this target) served
 * by vite preview on 127.0.0.1, Debian's chromium driven headless by playwright-core (no browser download).
 */
const CHROMIUM = process.env.KEYPOINTS_CHROMIUM ?? '/usr/bin/chromium';
const DIST = join(REPO_ROOT, 'packages', 'demo', 'dist');
const OUT = join(REPO_ROOT, 'runs', 'demo-e2e');
/** P1 test photos, spread over the folder (sorted by name). */
const PHOTOS = ['Abdullah_Gul_11.jpg', 'George_Galloway_21.jpg', 'Richard_Lugar_21.jpg'];
const TOLERANCE_PX = 0.5;

/** Saved models of every preset (untrained, seeded), written beside the built page before it is served. */
const PRESETS_DIR = join(DIST, 'presets');
const PRESET_MODELS = [...MODEL_PRESET_NAMES, 'net6_nose_tip'];

async function savePresetModels(): Promise<void> {
  await rm(PRESETS_DIR, { recursive: true, force: true });
  for (const name of PRESET_MODELS) {
    const [model, keypoints] = name === 'net6_nose_tip' ? (['net6', 'nose_tip'] as const) : ([name as ModelPreset, 'full'] as const);
    const parsed = resolveTrainConfig({ model, keypoints, seed: 1 });
    if (!parsed.success) throw new Error(`${name}: ${parsed.error.message}`);
    const built = buildModel(parsed.data);
    await saveModel(built, join(PRESETS_DIR, name)); // the default save: portable (stock tfjs classes only)
    built.dispose();
  }
}

/** Load a saved model folder with stock tfjs in Node (from its bytes) and predict a grey face. */
async function nodePrediction(dir: string): Promise<{ outputShape: (number | null)[]; sum: number }> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const w = readFileSync(join(dir, 'weights.bin'));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
  const y = tf.tidy(() => model.predict(tf.fill([1, 96, 96, 1], 0.5)) as tf.Tensor);
  const sum = Array.from(await y.data()).reduce((a, b) => a + b, 0);
  const outputShape = model.outputs[0]!.shape;
  y.dispose();
  model.dispose();
  return { outputShape, sum };
}

const shared = sharedData({ files: ['youtube_faces_p1/test', ...PHOTOS.map((p) => `youtube_faces_p1/test/${p}`)], what: 'the demo page vs keypoints predict on P1 test photos' });
const noBrowser = existsSync(CHROMIUM) ? '' : `${CHROMIUM} not found: apt-get install -y chromium (or set KEYPOINTS_CHROMIUM)`;
if (noBrowser) console.warn(`demo e2e: skipped: ${noBrowser}`);

describe.skipIf(!!noBrowser)('demo page in headless chromium', () => {
  let server: PreviewServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} not built: run npx nx run demo:build (demo:e2e depends on it)`);
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    await savePresetModels();
    server = await preview({ configFile: join(REPO_ROOT, 'packages', 'demo', 'vite.config.ts'), preview: { host: '127.0.0.1', port: 4174, strictPort: false }, logLevel: 'warn' });
    base = server.resolvedUrls!.local[0];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openPage(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(new URL(path, base).href);
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  }

  it.skipIf(!shared.available)(`the page's keypoints equal keypoints predict's (Node, same detector settings) within ${TOLERANCE_PX} px`, async () => {
    const files = PHOTOS.map((p) => shared.path('youtube_faces_p1', 'test', p));
    const detector = createFaceApiDetector(); // the CLI's defaults: tiny, 416, min score 0.3, padding 0.5, retry 1
    const { photos: node } = await predictPhotos(files, { detector, logger: silentLogger });
    detector.dispose?.();
    const page = await openPage('index.html?backend=cpu');
    const backend = await page.evaluate(() => window.keypointsDemo.ready);
    expect(backend).toBe('cpu');
    const report: string[] = [];
    for (let i = 0; i < files.length; i++) {
      await page.setInputFiles('#file', files[i]);
      await page.waitForFunction((name) => document.body.dataset.state === 'done' && window.keypointsDemo.result?.name === name, PHOTOS[i], { timeout: 60_000 });
      const result = (await page.evaluate(() => window.keypointsDemo.result)) as DemoResult;
      const fromAttribute = JSON.parse((await page.getAttribute('#canvas', 'data-keypoints'))!);
      expect(fromAttribute).toEqual(result.faces.map((f) => f.keypoints));
      await page.locator('#canvas').screenshot({ path: join(OUT, PHOTOS[i].replace(/\.jpg$/, '.png')) });
      const want: PhotoPrediction = node[i];
      expect([result.width, result.height]).toEqual([want.width, want.height]);
      expect(result.faces.length).toBe(want.faces.length);
      expect(result.faces.length).toBeGreaterThan(0);
      let max = 0;
      result.faces.forEach((f, j) => {
        for (let k = 0; k < 4; k++) expect(Math.abs(f.box[k] - want.faces[j].box[k])).toBeLessThan(0.5);
        expect(f.crop).toEqual(want.faces[j].crop);
        for (const name of KAGGLE_KEYPOINTS) {
          const [bx, by] = f.keypoints[name]!;
          const [nx, ny] = want.faces[j].keypoints[name]!;
          max = Math.max(max, Math.abs(bx - nx), Math.abs(by - ny));
        }
      });
      report.push(`${PHOTOS[i]}: ${result.faces.length} face(s), max |Δ| ${max.toFixed(3)} px, detect ${result.detectMs.toFixed(0)} ms, predict ${result.predictMs.toFixed(0)} ms`);
      expect(max).toBeLessThanOrEqual(TOLERANCE_PX);
    }
    await page.screenshot({ path: join(OUT, 'page.png'), fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    console.log(report.join('\n'));
    await page.close();
  });

  it('a page with only stock @tensorflow/tfjs loads the saved model of every preset (net1 … net8, a specialist) and predicts what Node predicts', async () => {
    const page = await openPage('portable.html');
    await page.evaluate(() => window.portable);
    const report: string[] = [];
    for (const name of PRESET_MODELS) {
      const got = await page.evaluate((url) => window.loadPortable(url), `./presets/${name}/model.json`);
      const want = await nodePrediction(join(PRESETS_DIR, name));
      expect(got.layers, name).not.toContain('KeypointsDropout');
      expect(got.outputShape, name).toEqual(want.outputShape);
      expect(got.sum, name).toBeCloseTo(want.sum, 3);
      report.push(`${name}: ${got.layers.length} layers, output ${JSON.stringify(got.outputShape)}, sum ${got.sum.toFixed(5)} (Node ${want.sum.toFixed(5)})`);
    }
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    console.log(`stock tfjs in chromium loads every preset's saved model:\n${report.join('\n')}`);
    await page.close();
  });

  it('a page with only stock @tensorflow/tfjs loads the shipped default model (and predicts what Node predicts)', async () => {
    const page = await openPage('portable.html');
    const got = await page.evaluate(() => window.portable);
    await page.screenshot({ path: join(OUT, 'portable.png') });
    expect(got.outputShape).toEqual([null, 30]);
    expect(got.layers).not.toContain('KeypointsDropout');
    const { sum } = await nodePrediction(join(DEFAULT_MODEL_DIR, 'model'));
    expect(got.sum).toBeCloseTo(sum, 3);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });
});
