import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError, DataNotFoundError, IMAGE_PIXELS, KAGGLE_COLUMNS, isKeypointsError } from '@keypoints/core';
import { convertLandmarkFolder, convertLandmarkRecords } from './landmarks.converter.js';
import { readLandmarkCsv, type LandmarkRecord } from './landmark-csv.js';
import { sharedData } from '@keypoints/test-support';
import { P1_DIR } from './test-paths.js';

const p1 = sharedData({ files: ['youtube_faces_p1/training_frames_keypoints.csv', 'youtube_faces_p1/test_frames_keypoints.csv'] });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-convert-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = ['', ...Array.from({ length: 136 }, (_, i) => String(i))].join(',');

/** A plausible row: a face in a 200 × 200 image, landmarks spread over 60..140. */
function row(name: string, override?: (fields: string[]) => void): string {
  const fields = [name];
  for (let k = 0; k < 68; k++) fields.push(`${60 + (k % 9) * 10}.0`, `${60 + Math.floor(k / 9) * 10}.0`);
  override?.(fields);
  return fields.join(',');
}

async function expectRejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!p1.available)('convertLandmarkFolder on real P1 images', () => {
  it('converts a few faces end to end to a Kaggle training CSV with Identity', async () => {
    const out = path.join(dir, 'real', 'training.csv.gz');
    const progress: number[] = [];
    const result = await convertLandmarkFolder({
      csv: path.join(P1_DIR, 'training_frames_keypoints.csv'),
      imagesDir: path.join(P1_DIR, 'training'),
      out,
      limit: 6,
      filter: (r) => r.identity !== 'Luis_Fonsi',
      onProgress: (done) => progress.push(done),
    });
    expect(result.rows).toBe(6);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    const lines = gunzipSync(await readFile(out)).toString('utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe([...KAGGLE_COLUMNS, 'Image', 'Identity'].join(','));
    expect(lines).toHaveLength(1 + 6 + 1);
    for (const line of lines.slice(1, -1)) {
      const f = line.split(',');
      expect(f).toHaveLength(32);
      const pixels = f[30].split(' ').map(Number);
      expect(pixels).toHaveLength(IMAGE_PIXELS);
      expect(pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
      const mean = pixels.reduce((s, v) => s + v, 0) / pixels.length;
      const sd = Math.sqrt(pixels.reduce((s, v) => s + (v - mean) ** 2, 0) / pixels.length);
      expect(sd).toBeGreaterThan(10); // a face, not a flat image
      const kp = f.slice(0, 30).map(Number);
      expect(kp.every((v) => v >= 0 && v <= 96)).toBe(true);
      expect(f.slice(0, 30).every((v) => /^-?\d+(\.\d{1,4})?$/.test(v))).toBe(true);
      expect(kp[0]).toBeGreaterThan(kp[2]); // left eye (subject's) on the image's right
      expect(f[31]).not.toBe('Luis_Fonsi');
      expect(f[31]).toMatch(/^[A-Za-z].*[a-z]$/);
    }
    expect(result.table.identities[0]).toBe(result.table.names[0].replace(/_\d+\.jpg$/, ''));
  });

  it('writes the test layout plus a keypoint file', async () => {
    const result = await convertLandmarkFolder({
      csv: path.join(P1_DIR, 'test_frames_keypoints.csv'),
      imagesDir: path.join(P1_DIR, 'test'),
      out: path.join(dir, 'real', 'test.csv'),
      keypointsOut: path.join(dir, 'real', 'test_keypoints.csv'),
      format: 'test',
      limit: 2,
      concurrency: 1,
    });
    const test = (await readFile(result.out.file, 'utf8')).split('\n');
    expect(test[0]).toBe('ImageId,Image,Identity');
    expect(test[1].split(',')[0]).toBe('1');
    expect(test[2].split(',')[1].split(' ')).toHaveLength(IMAGE_PIXELS);
    const kp = (await readFile(result.keypointsOut!.file, 'utf8')).split('\n');
    expect(kp[0]).toBe([...KAGGLE_COLUMNS, 'ImageId', 'Identity'].join(','));
    expect(kp[1].split(',').slice(30)).toEqual([test[1].split(',')[0], test[1].split(',')[2]]);
  });
});

describe('crop padding', () => {
  it('repeats the edge pixels where the crop leaves the image (no black borders)', async () => {
    const imagesDir = path.join(dir, 'pad');
    await mkdir(imagesDir, { recursive: true });
    // 40 × 40 image: left half 50, right half 200; landmarks spread well past the image.
    const px = Buffer.alloc(40 * 40);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) px[y * 40 + x] = x < 20 ? 50 : 200;
    await sharp(px, { raw: { width: 40, height: 40, channels: 1 } }).png().toFile(path.join(imagesDir, 'Pad_Test_01.jpg'));
    const points = new Float64Array(136);
    for (let k = 0; k < 68; k++) {
      points[2 * k] = -30 + (k % 9) * 12.5; // x −30..70
      points[2 * k + 1] = -30 + Math.floor(k / 9) * 12.5;
    }
    const record: LandmarkRecord = {
      name: 'Pad_Test_01.jpg',
      identity: 'Pad_Test',
      imagePath: path.join(imagesDir, 'Pad_Test_01.jpg'),
      points,
      file: 'synthetic.csv',
      line: 2,
    };
    const t = await convertLandmarkRecords([record]);
    expect(t.paddedCount).toBe(1);
    const box = t.boxes[0];
    expect(box.left).toBeLessThan(0);
    expect(box.left + box.side).toBeGreaterThan(40);
    // Every output pixel is one of the two values (± resampling at the step), never black.
    const min = t.images.reduce((m, v) => Math.min(m, v), 255);
    expect(min).toBeGreaterThanOrEqual(40);
    expect(t.images[0]).toBe(50); // top-left corner: replicated left edge
    expect(t.images[95]).toBe(200); // top-right corner: replicated right edge
    expect(t.images[95 * 96]).toBe(50);
  });
});

describe('bad input', () => {
  async function setup(name: string, lines: string[], images: string[] = []): Promise<{ csv: string; imagesDir: string }> {
    const base = path.join(dir, name);
    const imagesDir = path.join(base, 'images');
    await mkdir(imagesDir, { recursive: true });
    const csv = path.join(base, 'keypoints.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    const face = Buffer.alloc(200 * 200, 128);
    for (const img of images) {
      await sharp(face, { raw: { width: 200, height: 200, channels: 1 } }).png().toFile(path.join(imagesDir, img));
    }
    return { csv, imagesDir };
  }

  it('names the image, CSV file, line and column of a missing image file', async () => {
    const { csv, imagesDir } = await setup('missing-image', [HEADER, row('A_01.jpg'), row('Missing_Person_07.jpg')], ['A_01.jpg']);
    const error = await expectRejects(convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv') }));
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(isKeypointsError(error, 'DATA_NOT_FOUND')).toBe(true);
    expect(error.message).toContain(path.join(imagesDir, 'Missing_Person_07.jpg'));
    expect(error.message).toContain(`${csv}, line 3, column 1`);
  });

  it('reports a row with the wrong number of fields', async () => {
    const { csv, imagesDir } = await setup('fields', [HEADER, row('A_01.jpg'), row('A_02.jpg', (f) => f.splice(100))]);
    const error = await expectRejects(convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv') }));
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).location).toEqual({ file: csv, line: 3 });
    expect(error.message).toBe(`${csv}, line 3: row has 100 fields; expected 137 (file name + 136 coordinates)`);
  });

  it('reports a non-numeric value with its line and column', async () => {
    const { csv, imagesDir } = await setup('nan', [HEADER, row('A_01.jpg'), row('A_02.jpg'), row('A_03.jpg', (f) => (f[8] = 'abc'))]);
    const error = await expectRejects(readLandmarkCsv(csv, imagesDir));
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).location).toEqual({ file: csv, line: 4, column: '7' });
    expect(error.message).toBe(`${csv}, line 4, column '7': 'abc' is not a number (y of landmark 3)`);
  });

  it('reports an empty coordinate', async () => {
    const { csv, imagesDir } = await setup('empty', [HEADER, row('A_01.jpg', (f) => (f[1] = ''))]);
    const error = await expectRejects(readLandmarkCsv(csv, imagesDir));
    expect(error.message).toBe(`${csv}, line 2, column '0': missing value (x of landmark 0)`);
  });

  it('reports a wrong header', async () => {
    const { csv, imagesDir } = await setup('header', ['name,x0,y0', row('A_01.jpg')]);
    const error = await expectRejects(readLandmarkCsv(csv, imagesDir));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(/line 1: header has 3 fields; expected 137/);
  });

  it('reports a missing CSV or images folder', async () => {
    const { csv, imagesDir } = await setup('nofile', [HEADER]);
    const e1 = await expectRejects(convertLandmarkFolder({ csv: `${csv}.nope`, imagesDir, out: path.join(dir, 'x.csv') }));
    expect(e1).toBeInstanceOf(DataNotFoundError);
    expect(e1.message).toContain(`${csv}.nope`);
    const e2 = await expectRejects(convertLandmarkFolder({ csv, imagesDir: `${imagesDir}-nope`, out: path.join(dir, 'x.csv') }));
    expect(e2).toBeInstanceOf(DataNotFoundError);
    expect(e2.message).toContain(`${imagesDir}-nope`);
  });

  it('reports an image that cannot be decoded', async () => {
    const { csv, imagesDir } = await setup('decode', [HEADER, row('Bad_01.jpg')]);
    await writeFile(path.join(imagesDir, 'Bad_01.jpg'), 'not an image');
    const error = await expectRejects(convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv') }));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toContain(path.join(imagesDir, 'Bad_01.jpg'));
    expect(error.message).toContain(`named in ${csv}, line 2`);
  });

  it('rejects invalid options', async () => {
    const { csv, imagesDir } = await setup('opts', [HEADER, row('A_01.jpg')], ['A_01.jpg']);
    await expect(convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv'), limit: -1 })).rejects.toThrow(/limit/);
    await expect(convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv'), concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(
      convertLandmarkFolder({ csv, imagesDir, out: path.join(dir, 'x.csv'), rule: { scale: 0, offsetX: 0, offsetY: 0 } }),
    ).rejects.toThrow(/crop rule/);
  });
});
