import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KAGGLE_COLUMNS, KAGGLE_KEYPOINTS, isKeypointsError } from '@keypoints/core';
import { buildFullyConnected, saveModel } from '@keypoints/models';
import { TrainConfigSchema } from '@keypoints/pipeline';
import { sharedData } from '@keypoints/test-support';
import { NO_DEFAULT_MODEL_MESSAGE } from './commands/predict.command.js';
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

describe('keypoints predict without --model', () => {
  it('fails with one line naming --model while no default model ships', async () => {
    const error = await run('predict', 'whatever.jpg').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeypointsError(error, 'CONFIG_INVALID'), String(error)).toBe(true);
    expect((error as Error).message).toBe(NO_DEFAULT_MODEL_MESSAGE);
    expect((error as Error).message).not.toContain('\n');
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
