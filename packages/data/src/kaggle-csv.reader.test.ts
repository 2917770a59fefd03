import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError, DataNotFoundError, IMAGE_PIXELS, KAGGLE_COLUMNS, KAGGLE_KEYPOINTS } from '@keypoints/core';
import type { KeypointTable } from './dataset.js';
import { readKaggleCsv } from './kaggle-csv.reader.js';
import { KEYPOINTS_ONLY_CSV, fixtureImageField, fixturePixel, realKeypointLines, realKeypointsData, trainingCsvText } from './test-fixtures.js';

// Every suite below reads the real keypoint rows (shared/data), directly or through the fixtures.
const real = realKeypointsData();

const HAS_ZIP = (() => {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kaggle-csv-reader-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write `text` to `<dir>/<name>` and return the path. */
function write(name: string, text: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Zip `files` (paths inside `dir`, stored without folders) into `<dir>/<name>`. */
function zip(name: string, ...files: string[]): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  execFileSync('zip', ['-q', '-j', path, ...files]);
  return path;
}

/** Assert two tables hold the same data (fast for megabytes of pixels; NaN equals NaN). */
function expectSameTable(actual: KeypointTable, expected: KeypointTable): void {
  const { images: a, keypoints: ak, file: _af, ...restA } = actual;
  const { images: b, keypoints: bk, file: _bf, ...restB } = expected;
  expect(restA).toEqual(restB);
  expect(Array.from(ak)).toEqual(Array.from(bk));
  expect(a === undefined).toBe(b === undefined);
  if (a !== undefined && b !== undefined) expect(Buffer.compare(a, b)).toBe(0);
}

/** The error `promise` rejects with (fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the read to fail');
}

describe.skipIf(!real.available)('readKaggleCsv: the real keypoint-only table', () => {
  let table: KeypointTable;
  beforeAll(async () => {
    table = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false });
  });

  it('reads 7049 rows of the 30 Kaggle columns, no images', () => {
    expect(table.count).toBe(7049);
    expect(table.columns).toEqual(KAGGLE_COLUMNS);
    expect(table.keypoints).toBeInstanceOf(Float32Array);
    expect(table.keypoints.length).toBe(7049 * 30);
    expect(table.images).toBeUndefined();
    expect(table.identities).toBeUndefined();
    expect(table.imageIds).toBeUndefined();
  });

  it('has 2140 complete rows and the per-keypoint present counts of the README', () => {
    let complete = 0;
    const missingHistogram = new Map<number, number>();
    for (let r = 0; r < table.count; r++) {
      let missing = 0;
      for (let c = 0; c < 30; c++) if (Number.isNaN(table.keypoints[r * 30 + c])) missing++;
      if (missing === 0) complete++;
      missingHistogram.set(missing, (missingHistogram.get(missing) ?? 0) + 1);
    }
    expect(complete).toBe(2140);
    expect(Object.fromEntries([...missingHistogram].sort((a, b) => a[0] - b[0]))).toEqual({
      0: 2140, 2: 87, 4: 28, 6: 9, 8: 8, 10: 3, 12: 5, 14: 2, 20: 2, 22: 4755, 24: 10,
    });
    const present: Record<string, number> = {
      left_eye_center: 7039, right_eye_center: 7036, left_eye_inner_corner: 2271, left_eye_outer_corner: 2267,
      right_eye_inner_corner: 2268, right_eye_outer_corner: 2268, left_eyebrow_inner_end: 2270,
      left_eyebrow_outer_end: 2225, right_eyebrow_inner_end: 2270, right_eyebrow_outer_end: 2236, nose_tip: 7049,
      mouth_left_corner: 2269, mouth_right_corner: 2270, mouth_center_top_lip: 2275, mouth_center_bottom_lip: 7016,
    };
    KAGGLE_KEYPOINTS.forEach((name, k) => {
      for (const axis of [0, 1]) {
        let n = 0;
        for (let r = 0; r < table.count; r++) if (!Number.isNaN(table.keypoints[r * 30 + 2 * k + axis])) n++;
        expect(n, `${name} ${axis === 0 ? 'x' : 'y'}`).toBe(present[name]);
      }
    });
  });

  it('keeps the values (pixels) and the original row order', () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of table.keypoints) {
      if (Number.isNaN(v)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(Math.fround(0.686592));
    expect(max).toBe(Math.fround(95.9356444444));
    expect(Array.from(table.keypoints.subarray(0, 4))).toEqual(
      [66.0335639098, 39.0022736842, 30.2270075188, 36.4216781955].map(Math.fround),
    );
  });

  it('selects a subset of keypoint columns in the requested order', async () => {
    const nose = await readKaggleCsv(KEYPOINTS_ONLY_CSV, {
      requireImage: false,
      columns: ['nose_tip_y', 'nose_tip_x'],
    });
    expect(nose.columns).toEqual(['nose_tip_y', 'nose_tip_x']);
    expect(nose.count).toBe(7049);
    for (const r of [0, 1, 5000, 7048]) {
      expect(nose.keypoints[r * 2]).toBe(table.keypoints[r * 30 + 21]);
      expect(nose.keypoints[r * 2 + 1]).toBe(table.keypoints[r * 30 + 20]);
    }
    expect(nose.keypoints.some(Number.isNaN)).toBe(false);
  });

  it('stops after maxRows rows', async () => {
    const head = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, maxRows: 10 });
    expect(head.count).toBe(10);
    expect(head.keypoints).toEqual(table.keypoints.slice(0, 300));
  });

  it('requires an Image column unless requireImage is false', async () => {
    const err = await failure(readKaggleCsv(KEYPOINTS_ONLY_CSV));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain('training_keypoints_only.csv, line 1, column \'Image\'');
    expect(err.message).toContain("no 'Image' column");
    expect(err.message).toContain('requireImage: false');
  });
});

describe.skipIf(!real.available)('readKaggleCsv: training.csv with images (csv, csv.gz, zip)', () => {
  // Real rows with 0, 2, 4, … 24 missing fields (first row of each kind), plus a few more.
  const rows = [0, 1, 2, 210, 1620, 1636, 1643, 1652, 1747, 1866, 2153, 2284, 2289, 3000, 5000, 7048];
  let csvPath: string;
  let csv: KeypointTable;
  beforeAll(async () => {
    mkdirSync(join(dir, 'plain'), { recursive: true });
    const text = trainingCsvText({ rows });
    csvPath = write('plain/training.csv', text);
    write('training.csv.gz', gzipSync(text));
    if (HAS_ZIP) zip('training.zip', csvPath);
    csv = await readKaggleCsv(csvPath);
  });

  it('reads keypoints (NaN where missing) and pixels', () => {
    expect(csv.count).toBe(rows.length);
    expect(csv.columns).toEqual(KAGGLE_COLUMNS);
    expect(csv.images).toBeInstanceOf(Uint8Array);
    expect(csv.images?.length).toBe(rows.length * IMAGE_PIXELS);
    const lines = realKeypointLines();
    rows.forEach((r, i) => {
      const expected = lines[r].split(',').map((v) => (v === '' ? Number.NaN : Math.fround(Number(v))));
      expect(Array.from(csv.keypoints.subarray(i * 30, (i + 1) * 30))).toEqual(expected);
      for (const p of [0, 1, 95, 96, 4711, IMAGE_PIXELS - 1]) {
        expect(csv.images?.[i * IMAGE_PIXELS + p]).toBe(fixturePixel(i, p));
      }
    });
    expect(csv.keypoints.some(Number.isNaN)).toBe(true); // most of these rows lack keypoints
  });

  it('reads the same table from .csv.gz', async () => {
    const gz = await readKaggleCsv(join(dir, 'training.csv.gz'));
    expectSameTable(gz, csv);
    expect(gz.file).toBe(join(dir, 'training.csv.gz'));
  });

  it.skipIf(!HAS_ZIP)('reads the same table from Kaggle-style training.zip', async () => {
    const z = await readKaggleCsv(join(dir, 'training.zip'));
    expectSameTable(z, csv);
    expect(z.file).toBe(`${join(dir, 'training.zip')}:training.csv`);
  });

  it('reads CRLF line endings, a UTF-8 BOM and an Identity column', async () => {
    const text = trainingCsvText({ rows: [0, 1, 2], identities: ['Ann_1', 'Bob', 'Ann_1'], eol: '\r\n' });
    const table = await readKaggleCsv(write('crlf.csv', `\uFEFF${text}`));
    expect(table.count).toBe(3);
    expect(table.columns).toEqual(KAGGLE_COLUMNS);
    expect(table.identities).toEqual(['Ann_1', 'Bob', 'Ann_1']);
    expectSameTable(table, { ...csv, count: 3, keypoints: csv.keypoints.slice(0, 90), images: csv.images?.slice(0, 3 * IMAGE_PIXELS), identities: ['Ann_1', 'Bob', 'Ann_1'] });
  });

  it('reads test.csv (ImageId,Image)', async () => {
    const text = `ImageId,Image\n1,${fixtureImageField(0)}\n2,${fixtureImageField(1)}\n`;
    const table = await readKaggleCsv(write('test.csv', text));
    expect(table.count).toBe(2);
    expect(table.columns).toEqual([]);
    expect(table.keypoints.length).toBe(0);
    expect(table.imageIds).toEqual([1, 2]);
    expect(Buffer.compare(table.images as Uint8Array, csv.images?.subarray(0, 2 * IMAGE_PIXELS) as Uint8Array)).toBe(0);
  });

  it('rejects a requested column that the file lacks, listing the ones it has', async () => {
    const path = write('nose.csv', `nose_tip_x,nose_tip_y,Image\n1,2,${fixtureImageField(0)}\n`);
    const err = await failure(readKaggleCsv(path, { columns: ['nose_tip_x', 'left_eye_center_x'] }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('nose.csv');
    expect(err.message).toContain("no keypoint column 'left_eye_center_x'");
    expect(err.message).toContain('its keypoint columns are: nose_tip_x, nose_tip_y');
  });
});

describe.skipIf(!real.available)('readKaggleCsv: bad input', () => {
  const header = [...KAGGLE_COLUMNS, 'Image'].join(',');
  const lines = () => realKeypointLines();
  const good = (i: number) => `${lines()[i]},${fixtureImageField(i)}`;

  it('rejects an image with the wrong number of pixels (found vs 9216)', async () => {
    const short = `${lines()[2]},${fixtureImageField(2).replace(/ \d+$/, '')}`;
    const path = write('short.csv', [header, good(0), good(1), short, good(3)].join('\n') + '\n');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 4, column 'Image'`);
    expect(err.message).toContain('found 9215 pixels, expected 9216');
    expect((err as DataFormatError).location).toEqual({ file: path, line: 4, column: 'Image' });
  });

  it('counts too many pixels too', async () => {
    const path = write('long.csv', [header, `${good(0)} 7 8`].join('\n'));
    const err = await failure(readKaggleCsv(path));
    expect(err.message).toContain(`${path}, line 2, column 'Image'`);
    expect(err.message).toContain('found 9218 pixels, expected 9216');
  });

  it('rejects a pixel outside 0..255', async () => {
    const px = fixtureImageField(1).split(' ');
    px[99] = '256';
    const path = write('range.csv', [header, good(0), `${lines()[1]},${px.join(' ')}`].join('\n') + '\n');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 3, column 'Image'`);
    expect(err.message).toContain('pixel #100 is 256, outside 0..255');
  });

  it('rejects a negative pixel as out of range', async () => {
    const px = fixtureImageField(0).split(' ');
    px[0] = '-4';
    const path = write('negative.csv', [header, `${lines()[0]},${px.join(' ')}`].join('\n') + '\n');
    const err = await failure(readKaggleCsv(path));
    expect(err.message).toContain(`${path}, line 2, column 'Image'`);
    expect(err.message).toContain('pixel #1 is -4, outside 0..255');
  });

  it('rejects a pixel that is not an integer', async () => {
    const px = fixtureImageField(0).split(' ');
    px[9215] = '12.5';
    const path = write('fraction.csv', [header, `${lines()[0]},${px.join(' ')}`, good(1)].join('\n') + '\n');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 2, column 'Image'`);
    expect(err.message).toContain("pixel #9216 is '12.5', not an integer; expected integers 0..255");
  });

  it('rejects a non-numeric keypoint value', async () => {
    const fields = lines()[0].split(',');
    fields[20] = 'n/a';
    const path = write('keypoint.csv', [header, good(0), good(1), `${fields.join(',')},${fixtureImageField(2)}`].join('\n'));
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 4, column 'nose_tip_x'`);
    expect(err.message).toContain("value 'n/a' is not a number; expected a keypoint coordinate in pixels");
  });

  it('rejects a keypoint value that overflows to Infinity (1e400), naming its line and column', async () => {
    const fields = lines()[0].split(',');
    fields[3] = '1e400';
    const path = write('overflow.csv', [header, good(0), `${fields.join(',')},${fixtureImageField(1)}`].join('\n'));
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 3, column '${KAGGLE_COLUMNS[3]}'`);
    expect(err.message).toContain("value '1e400' overflows a float64");
  });

  it('rejects a missing Image column in a training table', async () => {
    const path = write('no-image.csv', `${KAGGLE_COLUMNS.join(',')}\n${lines()[0]}\n`);
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 1, column 'Image'`);
    expect(err.message).toContain("expected one holding 9216 space-separated pixels");
  });

  it('rejects an empty file (0 bytes)', async () => {
    const path = write('empty.csv', '');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 1:`);
    expect(err.message).toContain('empty (0 bytes); expected a header line');
  });

  it('rejects a file with only a header', async () => {
    const path = write('header-only.csv', `${header}\n`);
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 2:`);
    expect(err.message).toContain('no data rows after the header');
  });

  it('rejects a gzip file that holds nothing', async () => {
    const path = write('empty.csv.gz', gzipSync(''));
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 1:`);
    expect(err.message).toContain('expected a header line');
  });

  it('rejects a row with the wrong number of fields (physical line, blank lines counted)', async () => {
    const path = write('fields.csv', [header, good(0), '', good(1), lines()[2]].join('\n') + '\n');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 5:`);
    expect(err.message).toContain('found 30 fields, expected 31');
  });

  it('rejects a header with none of the Kaggle columns', async () => {
    const path = write('other.csv', ',0,1\na.jpg,1,2\n');
    const err = await failure(readKaggleCsv(path, { requireImage: false }));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}, line 1:`);
    expect(err.message).toContain('has none of the Kaggle columns');
  });

  it('rejects a truncated gzip file', async () => {
    const gz = gzipSync([header, good(0), good(1)].join('\n'));
    const path = write('truncated.csv.gz', gz.subarray(0, gz.length - 200));
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(path);
    expect(err.message).toContain('gzip');
  });

  it.skipIf(!HAS_ZIP)('rejects a zip with no csv inside', async () => {
    const readme = write('README.txt', 'no data here\n');
    const path = zip('no-csv.zip', readme);
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(path);
    expect(err.message).toContain('no .csv file inside the zip archive (other entries: README.txt)');
  });

  it.skipIf(!HAS_ZIP)('names the zip entry and line of bad input inside a zip', async () => {
    mkdirSync(join(dir, 'z'), { recursive: true });
    const inner = write('z/training.csv', [header, good(0), `${lines()[1]},1 2 3`].join('\n') + '\n');
    const path = zip('bad-training.zip', inner);
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(`${path}:training.csv, line 3, column 'Image'`);
    expect(err.message).toContain('found 3 pixels, expected 9216');
  });

  it('rejects a file that does not exist with DataNotFoundError', async () => {
    const path = join(dir, 'nowhere', 'training.csv');
    const err = await failure(readKaggleCsv(path));
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect((err as DataNotFoundError).code).toBe('DATA_NOT_FOUND');
    expect(err.message).toContain(`'${path}' does not exist`);
  });

  it('rejects invalid options', async () => {
    await expect(readKaggleCsv(KEYPOINTS_ONLY_CSV, { maxRows: 0 })).rejects.toThrow(ConfigError);
    await expect(
      readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, columns: ['nose_tip_x', 'nose_tip_x'] }),
    ).rejects.toThrow("column 'nose_tip_x' is requested twice");
  });
});

describe.skipIf(!real.available)('readKaggleCsv: memory', () => {
  /** The garbage collector, made callable at run time (no --expose-gc flag needed). */
  function getGc(): () => void {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  }
  /** Collect, and let V8 finish sweeping array buffers (freed asynchronously). */
  async function settle(gc: () => void): Promise<void> {
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(10);
    }
  }
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };

  it('reads a 2000-row training.csv (≈ 66 MB) keeping about the pixel bytes, not the text', async () => {
    const rowCount = 2000;
    const path = join(dir, 'big-training.csv');
    const images = Array.from({ length: 16 }, (_, i) => fixtureImageField(i));
    const lines = realKeypointLines();
    const fh = await open(path, 'w');
    await fh.write(`${[...KAGGLE_COLUMNS, 'Image'].join(',')}\n`);
    for (let start = 0; start < rowCount; start += 100) {
      let text = '';
      for (let r = start; r < start + 100; r++) text += `${lines[r]},${images[r % 16]}\n`;
      await fh.write(text);
    }
    const { size } = await fh.stat();
    await fh.close();
    expect(size).toBeGreaterThan(60e6);

    const gc = getGc();
    await settle(gc);
    const base = used();
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, used());
    }, 5);
    const t0 = performance.now();
    let table: KeypointTable | undefined = await readKaggleCsv(path);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, used());
    await settle(gc);
    const retained = used() - base;

    const pixelBytes = rowCount * IMAGE_PIXELS;
    expect(table.count).toBe(rowCount);
    expect(table.images?.length).toBe(pixelBytes);
    expect(table.images?.[1999 * IMAGE_PIXELS + 4711]).toBe(fixturePixel(1999 % 16, 4711));
    // What stays is the pixels (+ 240 kB of keypoints), far from the 66 MB of text.
    expect(retained).toBeLessThan(1.5 * pixelBytes);
    // Transient garbage (csv-parse's per-field copies) is collected as V8 sees fit: allow headroom.
    expect(peak - base).toBeLessThan(2 * pixelBytes + 64 * 2 ** 20);
    expect(seconds).toBeLessThan(20);
    table = undefined;
  });
});
