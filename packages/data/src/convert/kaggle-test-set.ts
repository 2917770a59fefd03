/**
 * A stand-in for Kaggle's `test.csv` (whose pixels are not available here): `count` converted
 * YouTube-Faces frames in the `ImageId,Image` layout, ImageIds `1..count` — by default 1783, the
 * number of images Kaggle's `IdLookupTable.csv` / `SampleSubmission.csv` refer to.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DataNotFoundError, SeededRandom } from '@keypoints/core';
import { writeKaggleCsv, type WriteKaggleCsvResult } from '../kaggle-csv.writer.js';
import { assertDirectory, readLandmarkCsv, type LandmarkRecord } from './landmark-csv.js';
import { convertLandmarkRecords, type ConvertLandmarksOptions, type ConvertedLandmarks } from './landmarks.converter.js';

/** Images in Kaggle's test set (`test.csv`): the ImageIds 1…1783 of `IdLookupTable.csv`. */
export const KAGGLE_TEST_IMAGES = 1783;

/** One labelled frame of the YouTube-Faces (Udacity P1) folder. */
export interface YoutubeFacesFrame {
  readonly record: LandmarkRecord;
  /** Upstream split the frame comes from. */
  readonly split: 'training' | 'test';
  /** Frame number from the file name (`Kevin_Stadler_31.jpg` → 31; 0 when absent). */
  readonly frame: number;
}

/** What {@link readYoutubeFacesFrames} found. */
export interface YoutubeFacesFrames {
  /** De-duplicated frames, upstream `training` split first, each in CSV order. */
  readonly frames: readonly YoutubeFacesFrame[];
  /** Byte-identical images dropped (same sha256 in `MANIFEST.csv`; first occurrence kept). */
  readonly duplicates: number;
}

/**
 * Pool both upstream splits of a YouTube-Faces (Udacity P1) folder (`training_frames_keypoints.csv` +
 * `training/`, `test_frames_keypoints.csv` + `test/`) and drop byte-identical images by the sha256 of
 * `MANIFEST.csv` (first occurrence kept) — the same pool `make-sample.ts` draws from.
 *
 * @param p1Dir e.g. `../shared/data/youtube_faces_p1`.
 * @throws {DataNotFoundError} when the folder, a CSV or `MANIFEST.csv` is missing.
 * @throws {DataFormatError} for a malformed landmark CSV (file, line, column).
 */
export async function readYoutubeFacesFrames(p1Dir: string): Promise<YoutubeFacesFrames> {
  await assertDirectory(p1Dir, 'YouTube-Faces folder');
  const hashes = await readManifestHashes(path.join(p1Dir, 'MANIFEST.csv'));
  const frames: YoutubeFacesFrame[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const split of ['training', 'test'] as const) {
    const records = await readLandmarkCsv(path.join(p1Dir, `${split}_frames_keypoints.csv`), path.join(p1Dir, split));
    for (const record of records) {
      const hash = hashes.get(`${split}/${record.name}`) ?? `${split}/${record.name}`;
      if (seen.has(hash)) {
        duplicates++;
        continue;
      }
      seen.add(hash);
      frames.push({ record, split, frame: frameNumber(record.name) });
    }
  }
  return { frames, duplicates };
}

/**
 * Pick `count` frames deterministically: the identities sorted by name and shuffled with
 * `SeededRandom(seed)`, each identity's frames in (upstream split, frame number) order, all of them
 * concatenated; then `count` positions spread evenly over that list (so every identity contributes
 * about the same share of its frames).
 *
 * @returns the chosen frames' records, in that order (row `i` becomes ImageId `i + 1`).
 * @throws {ConfigError} when `count` is not an integer in `[1, frames.length]`.
 */
export function selectTestFrames(frames: readonly YoutubeFacesFrame[], count: number, seed = 42): LandmarkRecord[] {
  if (!Number.isInteger(count) || count < 1 || count > frames.length) {
    throw new ConfigError(`test-set size must be an integer in [1, ${frames.length}] (the frames available), got ${count}`);
  }
  const byIdentity = new Map<string, YoutubeFacesFrame[]>();
  for (const f of frames) {
    const list = byIdentity.get(f.record.identity) ?? [];
    list.push(f);
    byIdentity.set(f.record.identity, list);
  }
  const identities = new SeededRandom(seed).shuffle([...byIdentity.keys()].sort());
  const ordered = identities.flatMap((id) =>
    byIdentity
      .get(id)!
      .slice()
      .sort((a, b) => (a.split === b.split ? a.frame - b.frame : a.split === 'training' ? -1 : 1)),
  );
  return Array.from({ length: count }, (_, i) => ordered[Math.floor(((i + 0.5) * ordered.length) / count)].record);
}

/** Options of {@link makeKaggleTestSet}. */
export interface MakeKaggleTestSetOptions extends ConvertLandmarksOptions {
  /** The YouTube-Faces (Udacity P1) folder, e.g. `../shared/data/youtube_faces_p1`. */
  readonly p1Dir: string;
  /** Output `test.csv` (`.gz` → gzipped), written atomically: header `ImageId,Image`. */
  readonly out: string;
  /** Faces to write, default {@link KAGGLE_TEST_IMAGES} (1783). */
  readonly count?: number;
  /** Seed of the identity shuffle, default 42. */
  readonly seed?: number;
  /**
   * Also write the faces' keypoints here (training layout without `Image`: 30 keypoint columns,
   * `ImageId`, `Identity`), e.g. to score a submission with `keypoints evaluate --data … --keypoints …`.
   */
  readonly keypointsOut?: string;
}

/** What {@link makeKaggleTestSet} wrote. */
export interface MakeKaggleTestSetResult {
  readonly out: WriteKaggleCsvResult;
  readonly keypointsOut?: WriteKaggleCsvResult;
  /** Distinct identities among the faces. */
  readonly identities: number;
  /** Faces whose crop was edge-padded. */
  readonly padded: number;
  /** The converted faces (pixels), row `i` = ImageId `i + 1`. */
  readonly table: ConvertedLandmarks;
}

/**
 * Write a Kaggle-layout `test.csv` of converted YouTube-Faces frames: header `ImageId,Image`
 * (exactly Kaggle's), ImageIds `1..count`, 96 × 96 grayscale faces from the landmark converter with
 * its default crop rule; frames chosen by {@link selectTestFrames} from {@link readYoutubeFacesFrames}.
 * With the default 1783 faces it stands in for Kaggle's own `test.csv`, so a submission for the real
 * `IdLookupTable.csv` can be produced and checked. (Converting 1783 faces takes about 10 s on 2 cores.)
 *
 * @throws {DataNotFoundError} when the folder or a file in it is missing.
 * @throws {ConfigError} when `count` exceeds the frames available (3799) or is not a positive integer.
 *
 * @example
 * await makeKaggleTestSet({ p1Dir: '../shared/data/youtube_faces_p1', out: 'runs/data/kaggle-test/test.csv' });
 */
export async function makeKaggleTestSet(options: MakeKaggleTestSetOptions): Promise<MakeKaggleTestSetResult> {
  const { frames } = await readYoutubeFacesFrames(options.p1Dir);
  const records = selectTestFrames(frames, options.count ?? KAGGLE_TEST_IMAGES, options.seed ?? 42);
  const table = await convertLandmarkRecords(records, options);
  const out = await writeKaggleCsv(options.out, { count: table.count, images: table.images }, { format: 'test' });
  const keypointsOut =
    options.keypointsOut !== undefined
      ? await writeKaggleCsv(
          options.keypointsOut,
          { count: table.count, columns: table.columns, keypoints: table.keypoints, identities: table.identities },
          { format: 'training', imageId: true },
        )
      : undefined;
  return {
    out,
    ...(keypointsOut ? { keypointsOut } : {}),
    identities: new Set(table.identities).size,
    padded: table.paddedCount,
    table,
  };
}

async function readManifestHashes(file: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DataNotFoundError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const header = lines[0]?.split(',') ?? [];
  const iSplit = header.indexOf('split');
  const iName = header.indexOf('filename');
  const iSha = header.indexOf('sha256');
  const map = new Map<string, string>();
  if (iSplit < 0 || iName < 0 || iSha < 0) return map; // no hashes: nothing is treated as a duplicate
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    map.set(`${f[iSplit]}/${f[iName]}`, f[iSha]);
  }
  return map;
}

function frameNumber(name: string): number {
  const m = /_(\d+)\.[^.]*$/.exec(name);
  return m ? Number(m[1]) : 0;
}
