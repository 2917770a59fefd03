import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { KAGGLE_KEYPOINTS } from '@keypoints/core';
import { cropFaceImage } from '@keypoints/data';
import { DEFAULT_MODEL_DIR } from '@keypoints/default-model';
import { REPO_ROOT, sharedData } from '@keypoints/test-support';
import { cropGreyFace, loadKeypointModel, predictImageFaces, toGrey } from './browser.js';
import { readPhoto } from './photo.js';
import { predictCrops } from './predict-photos.js';
import { loadPredictor } from './predictor.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Static imports and re-exports of a TS/JS file that exist at run time (`import type` / `export type` are erased). */
function runtimeSpecifiers(code: string): string[] {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const re = /(?:^|;|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|(?:^|;|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[4] !== undefined) {
      if (m[2]) continue; // import type … / export type …
      const clause = m[3].trim();
      // `import { type A, type B } from` is erased too.
      const braces = /^\{([^}]*)\}$/.exec(clause);
      if (braces && braces[1].split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
      out.push(m[4]);
    } else out.push((m[5] ?? m[6] ?? m[7])!);
  }
  return out;
}

/** Resolve a specifier the way the monorepo does (`@keypoints/source` condition → TypeScript sources). */
function resolveSpecifier(spec: string, from: string): string | undefined {
  if (spec.startsWith('.')) {
    const base = resolve(dirname(from), spec);
    for (const c of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]) if (existsSync(c) && !c.endsWith('/')) return c;
    throw new Error(`cannot resolve ${spec} from ${from}`);
  }
  const m = /^(@keypoints\/[^/]+)(\/.*)?$/.exec(spec);
  if (!m) return undefined; // third-party package: checked by name
  for (const root of ['packages', 'plugins', 'tools']) {
    const dirs = existsSync(join(REPO_ROOT, root)) ? readdirSync(join(REPO_ROOT, root)) : [];
    for (const d of dirs) {
      const pj = join(REPO_ROOT, root, d, 'package.json');
      if (!existsSync(pj)) continue;
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as { name: string; exports: Record<string, Record<string, string>> };
      if (pkg.name !== m[1]) continue;
      const entry = pkg.exports[m[2] ? `.${m[2]}` : '.'];
      if (!entry?.['@keypoints/source']) throw new Error(`${spec}: no '@keypoints/source' export`);
      return join(REPO_ROOT, root, d, entry['@keypoints/source']);
    }
  }
  throw new Error(`unknown workspace package ${spec}`);
}

/** Walk the import graph from `entry`: every file reached and every third-party package imported. */
function importGraph(entry: string): { files: Map<string, string[]>; packages: Set<string> } {
  const files = new Map<string, string[]>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    const specs = runtimeSpecifiers(readFileSync(file, 'utf8'));
    files.set(file, specs);
    for (const s of specs) {
      const target = resolveSpecifier(s, file);
      if (target !== undefined) todo.push(target);
      else packages.add(s);
    }
  }
  return { files, packages };
}

/** Packages a browser bundle may import on this path. */
const BROWSER_OK = new Set(['@tensorflow/tfjs', 'tsyringe', 'reflect-metadata']);

describe('@keypoints/inference/browser is browser-safe', () => {
  it('the exports map has a ./browser entry pointing at src/browser.ts and dist/browser.js', () => {
    const pkg = JSON.parse(readFileSync(join(HERE, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['./browser']).toEqual({ '@keypoints/source': './src/browser.ts', types: './dist/browser.d.ts', import: './dist/browser.js' });
  });

  it('its import graph (workspace packages included) has no node: import, no fs, no sharp, only browser-safe packages', () => {
    const { files, packages } = importGraph(join(HERE, 'browser.ts'));
    const offenders: string[] = [];
    for (const [file, specs] of files) {
      for (const s of specs) {
        if (s.startsWith('node:') || /^(fs|path|os|url|module|crypto|child_process|worker_threads|zlib|stream)(\/|$)/.test(s) || s === 'sharp' || s.startsWith('fs-')) {
          offenders.push(`${file.slice(REPO_ROOT.length + 1)} imports ${s}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect([...packages].filter((p) => !BROWSER_OK.has(p))).toEqual([]);
    // Sanity: the walk did reach core and the crop code.
    const reached = [...files.keys()].map((f) => f.slice(REPO_ROOT.length + 1));
    expect(reached).toContain('packages/core/src/index.ts');
    expect(reached).toContain('packages/inference/src/face-crop.ts');
  });

  it('so is the detector plugin\'s browser entry (@keypoints/detector-face-api/browser)', () => {
    const { files, packages } = importGraph(join(REPO_ROOT, 'plugins', 'detector-face-api', 'src', 'browser.ts'));
    const all = [...files.values()].flat();
    expect(all.filter((s) => s.startsWith('node:') || s === 'sharp')).toEqual([]);
    expect([...packages].filter((p) => !BROWSER_OK.has(p))).toEqual([]);
  });

  it('the walker does see node: imports (it flags the Node entry)', () => {
    const { files } = importGraph(join(HERE, 'index.ts'));
    const all = [...files.values()].flat();
    expect(all.some((s) => s.startsWith('node:'))).toBe(true);
    expect(all).toContain('sharp');
  });
});

/** A smooth synthetic grey photo with detail (no shared data needed). */
function syntheticGrey(width: number, height: number): Uint8Array {
  const g = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) g[y * width + x] = Math.round(127.5 + 60 * Math.sin(x / 7) * Math.cos(y / 11) + 50 * Math.sin((x + 2 * y) / 23));
  return g;
}

describe('pure-JS crop (browser) vs sharp crop (Node)', () => {
  it('matches cropFaceImage within 2 grey levels (mean < 0.3) for shrinking, enlarging, identity and padded crops', async () => {
    const [w, h] = [227, 275];
    const grey = syntheticGrey(w, h);
    for (const crop of [
      { left: 30, top: 40, side: 150 },
      { left: -10, top: 20, side: 230 },
      { left: 50, top: 60, side: 96 },
      { left: 50, top: 60, side: 70 },
      { left: 180, top: 230, side: 120 },
      { left: 0, top: 0, side: 300 },
    ]) {
      const want = await cropFaceImage(grey, w, h, 1, crop);
      const got = cropGreyFace(grey, w, h, crop);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(want[i] - got[i]);
        max = Math.max(max, d);
        sum += d;
      }
      expect(max, JSON.stringify(crop)).toBeLessThanOrEqual(2);
      expect(sum / want.length, JSON.stringify(crop)).toBeLessThan(0.3);
    }
  });

  it('toGrey equals sharp greyscale (libvips b-w) on a colour image', async () => {
    const [w, h] = [64, 48];
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      rgb[3 * i] = (i * 7) % 256;
      rgb[3 * i + 1] = (i * 13 + 50) % 256;
      rgb[3 * i + 2] = (i * 29 + 100) % 256;
    }
    const want = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).greyscale().raw().toBuffer();
    const got = toGrey(rgb, w, h, 3);
    let max = 0;
    for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
    expect(max).toBeLessThanOrEqual(1);
  });
});

const shared = sharedData({ files: ['youtube_faces_p1/test'], what: 'browser-path vs Node-path keypoints on a real P1 photo' });

describe('predictImageFaces (browser path) vs predictCrops (Node path), shipped model', () => {
  async function loadShipped(): Promise<tf.LayersModel> {
    const dir = join(DEFAULT_MODEL_DIR, 'model');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = readFileSync(join(dir, 'weights.bin'));
    return loadKeypointModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );
  }

  async function compare(rgba: Uint8Array, grey: Uint8Array, width: number, height: number, boxes: Array<[number, number, number, number]>): Promise<number> {
    const rule = { scale: 0.9356, offsetX: 0.0379, offsetY: -0.1161 };
    const model = await loadShipped();
    const predictor = await loadPredictor(DEFAULT_MODEL_DIR);
    try {
      const faces = boxes.map((box) => ({ box, score: 0.9 }));
      const browser = predictImageFaces(model, { data: rgba, width, height }, faces, { cropRule: rule });
      const { cropForDetectorBox } = await import('./face-crop.js');
      const node = await predictCrops(
        { file: 'x', width, height, rgb: { data: new Uint8Array(0), width, height }, grey },
        faces.map((f) => ({ ...f, crop: cropForDetectorBox(f.box, rule) })),
        predictor,
      );
      let max = 0;
      browser.forEach((b, i) => {
        expect(b.crop).toEqual(node[i].crop);
        for (const k of KAGGLE_KEYPOINTS) {
          const [bx, by] = b.keypoints[k]!;
          const [nx, ny] = node[i].keypoints[k]!;
          max = Math.max(max, Math.abs(bx - nx), Math.abs(by - ny));
        }
      });
      return max;
    } finally {
      model.dispose();
      predictor.dispose();
    }
  }

  it('synthetic photo: the 15 keypoints agree within 0.5 px', async () => {
    const [w, h] = [227, 275];
    const grey = syntheticGrey(w, h);
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([grey[i], grey[i], grey[i], 255], 4 * i);
    const max = await compare(rgba, grey, w, h, [[40, 60, 150, 160], [-20, 100, 120, 110]]);
    expect(max).toBeLessThan(0.5);
  });

  it.skipIf(!shared.available)('real P1 photo (decoded by sharp): the 15 keypoints agree within 0.5 px', async () => {
    const photo = await readPhoto(shared.path('youtube_faces_p1', 'test', 'Abdullah_Gul_11.jpg'));
    const { width, height } = photo;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba.set([photo.rgb.data[3 * i], photo.rgb.data[3 * i + 1], photo.rgb.data[3 * i + 2], 255], 4 * i);
    const max = await compare(rgba, photo.grey, width, height, [[20, 30, 190, 200]]);
    expect(max).toBeLessThan(0.5);
  });
});
