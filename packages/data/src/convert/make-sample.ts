/**
 * Regenerates the embedded default sample `packages/sample-data/data/` (`@keypoints/sample-data`) from the YouTube-Faces (Udacity P1) landmark
 * folder, with the landmark converter and its default crop rule.
 *
 *   npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts [--data <shared/data>] [--out <packages/sample-data/data>]
 *   npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts --all --out <dir>    # every frame, one training.csv.gz
 *   npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts --kaggle-test [--count 1783] [--out runs/data/kaggle-test]
 *
 * With `--kaggle-test`: a stand-in for Kaggle's `test.csv` (see `makeKaggleTestSet` in kaggle-test-set.ts):
 * `<dir>/test.csv` (`ImageId,Image`, ImageIds 1..1783, what `keypoints submit --test` reads with the real
 * `IdLookupTable.csv`) and `<dir>/test_keypoints.csv.gz` (their keypoints + `ImageId`, `Identity`).
 *
 * With `--all` (the full converted set used by docs/results.md): every de-duplicated frame of every
 * identity goes to `<dir>/training.csv.gz` (no test file); split it by identity when training.
 *
 * Selection (deterministic, no randomness beyond the seeded shuffle):
 * 1. Pool the rows of `training_frames_keypoints.csv` and `test_frames_keypoints.csv` (upstream's split is
 *    not identity-disjoint, so it is ignored); drop byte-identical images (same sha256 in MANIFEST.csv,
 *    first occurrence kept).
 * 2. Sort the identities by name, shuffle them with `SeededRandom(SEED)`; the first `TEST_IDENTITIES` are
 *    test, the rest training, so the two files share no identity.
 * 3. Per identity take `FRAMES_PER_IDENTITY` frames spread evenly over its frames (sorted by upstream split,
 *    then frame number): many identities with a few varied frames each beat many near-identical frames of
 *    one video.
 *
 * Writes `training.csv.gz` (Kaggle training layout + `Identity`), `test.csv.gz` (`ImageId,Image,Identity`)
 * and `test_keypoints.csv.gz` (keypoints of the test faces: training layout without `Image`, + `ImageId`
 * matching test.csv + `Identity`), and prints the counts and the per-keypoint means vs Kaggle.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAGGLE_COLUMNS, SeededRandom } from '@keypoints/core';
import { writeKaggleCsv } from '../kaggle-csv.writer.js';
import { kaggleKeypointMeans } from './crop-rule.js';
import { KAGGLE_TEST_IMAGES, makeKaggleTestSet, readYoutubeFacesFrames, type YoutubeFacesFrame } from './kaggle-test-set.js';
import type { LandmarkRecord } from './landmark-csv.js';
import { convertLandmarkRecords, type ConvertedLandmarks } from './landmarks.converter.js';

/** Seed of the identity shuffle. */
export const SEED = 42;
/** Identities reserved for the test file. */
export const TEST_IDENTITIES = 50;
/** Frames taken per identity (training and test alike). */
export const FRAMES_PER_IDENTITY = 4;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The default `--data`: `$KEYPOINTS_SHARED_DIR/data`, else `<repo>/../shared/data`, else `<repo>/shared/data`
 * (the rule of `@keypoints/test-support`, restated here: a tool does not import a test package).
 */
function defaultDataDir(): string {
  const env = process.env.KEYPOINTS_SHARED_DIR;
  if (env) return path.join(env, 'data');
  const beside = path.join(REPO_ROOT, '..', 'shared', 'data');
  const inside = path.join(REPO_ROOT, 'shared', 'data');
  return !existsSync(beside) && existsSync(inside) ? inside : beside;
}

/** `k` indices spread evenly over `0..n-1` (all of them when `n ≤ k`). */
function spread(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k));
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

const USAGE = `usage:
  npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts [--data <shared/data>] [--out <packages/sample-data/data>]   # the embedded sample
  npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts --all --out <dir>                                            # every frame
  npx tsx --conditions=@keypoints/source packages/data/src/convert/make-sample.ts --kaggle-test [--count 1783] [--out runs/data/kaggle-test]`;

/**
 * Parse the arguments (`--data DIR` and `--data=DIR` alike, as nx forwards them), refusing unknown
 * flags and answering --help before anything is written: the default action rewrites packages/sample-data/data.
 */
function parseArguments(): { data?: string; out?: string; count?: string; all: boolean; kaggleTest: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        count: { type: 'string' },
        all: { type: 'boolean', default: false },
        'kaggle-test': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return { data: values.data, out: values.out, count: values.count, all: values.all === true, kaggleTest: values['kaggle-test'] === true };
  } catch (error) {
    console.error(`make-sample: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parseArguments();
  const dataDir = path.resolve(args.data ?? defaultDataDir());
  const kaggleTest = args.kaggleTest;
  const defaultOut = kaggleTest ? path.join(REPO_ROOT, 'runs', 'data', 'kaggle-test') : path.join(REPO_ROOT, 'packages', 'sample-data', 'data');
  const outDir = path.resolve(args.out ?? defaultOut);
  const p1 = path.join(dataDir, 'youtube_faces_p1');
  if (kaggleTest) {
    const t0 = performance.now();
    const r = await makeKaggleTestSet({
      p1Dir: p1,
      out: path.join(outDir, 'test.csv'),
      keypointsOut: path.join(outDir, 'test_keypoints.csv.gz'),
      count: Number(args.count ?? KAGGLE_TEST_IMAGES),
      onProgress: (done, total) => {
        if (done === total || done % 200 === 0) process.stderr.write(`test: ${done}/${total}\n`);
      },
    });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${r.out.file}: ${r.out.rows} faces of ${r.identities} identities (${r.padded} edge-padded crops), ${r.out.bytes} bytes, ${seconds} s`);
    console.log(`${r.keypointsOut!.file}: their keypoints`);
    return;
  }

  const { frames: candidates, duplicates } = await readYoutubeFacesFrames(p1);

  const byIdentity = new Map<string, YoutubeFacesFrame[]>();
  for (const c of candidates) {
    const list = byIdentity.get(c.record.identity) ?? [];
    list.push(c);
    byIdentity.set(c.record.identity, list);
  }
  const identities = [...byIdentity.keys()].sort();
  new SeededRandom(SEED).shuffle(identities);
  const all = args.all;
  const testIds = all ? [] : identities.slice(0, TEST_IDENTITIES).sort();
  const trainIds = all ? identities.slice().sort() : identities.slice(TEST_IDENTITIES).sort();
  const framesPerIdentity = all ? Number.POSITIVE_INFINITY : FRAMES_PER_IDENTITY;

  const pick = (ids: string[]): LandmarkRecord[] =>
    ids.flatMap((id) => {
      const list = byIdentity
        .get(id)!
        .slice()
        .sort((a, b) => (a.split === b.split ? a.frame - b.frame : a.split === 'training' ? -1 : 1));
      return spread(list.length, framesPerIdentity).map((i) => list[i].record);
    });
  const trainRecords = pick(trainIds);
  const testRecords = pick(testIds);

  const progress = (label: string) => (done: number, total: number) => {
    if (done === total || done % 200 === 0) process.stderr.write(`${label}: ${done}/${total}\n`);
  };
  const train = await convertLandmarkRecords(trainRecords, { onProgress: progress('training') });
  const test = await convertLandmarkRecords(testRecords, { onProgress: progress('test') });

  if (all) {
    const w = await writeKaggleCsv(path.join(outDir, 'training.csv.gz'), train, { format: 'training' });
    console.log(`${w.file}: ${w.rows} faces of ${trainIds.length} identities (${duplicates} byte-identical duplicates dropped), ${w.bytes} bytes`);
    return;
  }
  const written = [
    await writeKaggleCsv(path.join(outDir, 'training.csv.gz'), train, { format: 'training' }),
    await writeKaggleCsv(
      path.join(outDir, 'test.csv.gz'),
      { count: test.count, images: test.images, identities: test.identities },
      { format: 'test' },
    ),
    await writeKaggleCsv(
      path.join(outDir, 'test_keypoints.csv.gz'),
      { count: test.count, columns: test.columns, keypoints: test.keypoints, identities: test.identities },
      { format: 'training', imageId: true },
    ),
  ];

  console.log(`source: ${candidates.length} frames of ${identities.length} identities (${duplicates} byte-identical duplicates dropped)`);
  console.log(`training: ${train.count} faces, ${trainIds.length} identities, ${train.paddedCount} edge-padded crops`);
  console.log(`test: ${test.count} faces, ${testIds.length} identities, ${test.paddedCount} edge-padded crops`);
  console.log('\n| file | rows | bytes | sha256 |\n| --- | --- | --- | --- |');
  for (const w of written) {
    console.log(`| ${path.basename(w.file)} | ${w.rows} | ${w.bytes} | ${sha256(await readFile(w.file))} |`);
  }
  await printMeans(path.join(dataDir, 'kaggle', 'training_keypoints_only.csv'), train, test);
}

async function printMeans(kaggleFile: string, train: ConvertedLandmarks, test: ConvertedLandmarks): Promise<void> {
  const kaggle = await kaggleKeypointMeans(kaggleFile, { rows: 'complete' });
  const mean = (t: ConvertedLandmarks, c: number): number => {
    let s = 0;
    for (let r = 0; r < t.count; r++) s += t.keypoints[r * KAGGLE_COLUMNS.length + c];
    return s / t.count;
  };
  const outside = (t: ConvertedLandmarks): number => t.keypoints.filter((v) => v < 0 || v > 96).length;
  console.log(`\nkeypoint values outside 0..96: training ${outside(train)}, test ${outside(test)}`);
  console.log('\n| column | Kaggle (2140 complete rows) | sample training | diff | sample test | diff |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  KAGGLE_COLUMNS.forEach((c, i) => {
    const k = kaggle.means[i];
    const a = mean(train, i);
    const b = mean(test, i);
    const f = (v: number) => v.toFixed(2);
    const d = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);
    console.log(`| ${c} | ${f(k)} | ${f(a)} | ${d(a - k)} | ${f(b)} | ${d(b - k)} |`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
