import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KAGGLE_COLUMNS, KAGGLE_KEYPOINTS } from '@keypoints/core';
import { buildFullyConnected, saveModel } from '@keypoints/models';
import { TrainConfigSchema } from '@keypoints/pipeline';
import { sharedData } from '@keypoints/test-support';
import { readKaggleCsv } from '@keypoints/data';
import { SAMPLE_TEST_CSV, SAMPLE_TEST_KEYPOINTS } from '@keypoints/sample-data';
import { buildProgram } from './main.js';

const shared = sharedData({ files: ['youtube_faces_p1/test'], what: 'keypoints predict on real P1 photos' });
/** Three P1 test photos (PNG content under .jpg names, 8-bit grey, faces filling most of the frame). */
const PHOTOS = ['Abdel_Aziz_Al-Hakim_01.jpg', 'Abdullah_Gul_11.jpg', 'Agbani_Darego_00.jpg'];

async function run(...args: string[]): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'keypoints', ...args]);
    return log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
  }
}

describe('keypoints predict without --model: the shipped default model (@keypoints/default-model)', () => {
  it('predicts the 15 keypoints of pre-cropped faces of the shipped sample within a few pixels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-predict-default-'));
    try {
      const n = 6;
      const faces = await readKaggleCsv(SAMPLE_TEST_CSV, { maxRows: n });
      const truth = await readKaggleCsv(SAMPLE_TEST_KEYPOINTS, { maxRows: n, requireImage: false });
      for (let i = 0; i < n; i++) {
        const pixels = Uint8Array.from(faces.images!.subarray(i * 9216, (i + 1) * 9216));
        await sharp(pixels, { raw: { width: 96, height: 96, channels: 1 } }).png().toFile(join(dir, `face${i}.png`));
      }
      const json = join(dir, 'out.json');
      await run('predict', dir, '--box', '0,0,96,96', '--json', json);
      const out = JSON.parse(await readFile(json, 'utf8')) as Array<{ file: string; faces: Array<{ keypoints: Record<string, [number, number]> }> }>;
      expect(out).toHaveLength(n);
      let se = 0;
      let count = 0;
      out.forEach((photo, i) => {
        expect(photo.file).toBe(join(dir, `face${i}.png`));
        const keypoints = photo.faces[0]!.keypoints;
        expect(Object.keys(keypoints)).toEqual([...KAGGLE_KEYPOINTS]);
        KAGGLE_KEYPOINTS.forEach((name, k) => {
          const [x, y] = keypoints[name]!;
          se += (x - truth.keypoints[i * 30 + 2 * k]!) ** 2 + (y - truth.keypoints[i * 30 + 2 * k + 1]!) ** 2;
          count += 2;
        });
      });
      // The shipped model's validation RMSE is in its metrics.json (≈ 4 px); these faces are of the
      // sample's test identities. A model that did not load, or keypoints mapped to the wrong frame, miss by 10+ px.
      expect(Math.sqrt(se / count)).toBeLessThan(6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!shared.available)('keypoints predict on real P1 photos (net1 saved in the test, wasm)', () => {
  let dir: string;
  let photos: string;
  let runDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-predict-'));
    photos = join(dir, 'photos');
    await mkdir(photos);
    for (const p of PHOTOS) await copyFile(shared.path('youtube_faces_p1', 'test', p), join(photos, p));
    runDir = join(dir, 'net1');
    await saveModel(buildFullyConnected({ seed: 3 }), join(runDir, 'model'));
    await writeFile(join(runDir, 'config.json'), JSON.stringify(TrainConfigSchema.parse({ model: 'net1', epochs: 1, backend: 'wasm' })));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a folder → --json contract (photo pixels), --csv one row per face, --draw PNGs of the photo size', async () => {
    const json = join(dir, 'out.json');
    const csv = join(dir, 'out.csv');
    const drawn = join(dir, 'drawn');
    const printed = await run('predict', photos, '--model', runDir, '--json', json, '--csv', csv, '--draw', drawn, '--backend', 'wasm');
    expect(printed).toContain(`${PHOTOS.length} photos`);
    const out = JSON.parse(await readFile(json, 'utf8')) as Array<{
      file: string;
      width: number;
      height: number;
      faces: Array<{ box: number[]; score: number; keypoints: Record<string, [number, number] | null> }>;
    }>;
    expect(out.map((e) => e.file)).toEqual(PHOTOS.map((p) => join(photos, p)));
    let faces = 0;
    for (const entry of out) {
      const meta = await sharp(entry.file).metadata();
      expect([entry.width, entry.height]).toEqual([meta.width, meta.height]);
      expect(entry.faces.length).toBeGreaterThanOrEqual(1);
      for (const f of entry.faces) {
        faces++;
        expect(f.box).toHaveLength(4);
        expect(f.score).toBeGreaterThan(0);
        expect(f.score).toBeLessThanOrEqual(1);
        expect(Object.keys(f.keypoints)).toEqual([...KAGGLE_KEYPOINTS]);
        for (const v of Object.values(f.keypoints)) {
          expect(v).toHaveLength(2);
          expect(v!.every(Number.isFinite)).toBe(true);
        }
      }
      const png = await sharp(join(drawn, entry.file.split('/').pop()!.replace(/\.jpg$/, '.png'))).metadata();
      expect([png.format, png.width, png.height]).toEqual(['png', entry.width, entry.height]);
    }
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(rows[0].split(',')).toEqual(['file', 'face', 'box_x', 'box_y', 'box_w', 'box_h', 'score', ...KAGGLE_COLUMNS]);
    expect(rows).toHaveLength(1 + faces);
  });

  it('--box skips detection: the face is the given crop, score 1', async () => {
    const json = join(dir, 'box.json');
    const file = join(photos, PHOTOS[0]);
    await run('predict', file, '--model', runDir, '--box', '40,30,200,200', '--json', json, '--backend', 'wasm');
    const [entry] = JSON.parse(await readFile(json, 'utf8')) as Array<{ file: string; faces: Array<{ box: number[]; score: number; crop: number[] }> }>;
    expect(entry.file).toBe(file);
    expect(entry.faces).toHaveLength(1);
    expect(entry.faces[0]).toMatchObject({ box: [40, 30, 200, 200], score: 1, crop: [40, 30, 200] });
  });
});
