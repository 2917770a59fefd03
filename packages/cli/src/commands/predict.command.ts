import { InvalidArgumentError, Option, type Command } from 'commander';

function collect(v: string, previous: string[] = []): string[] {
  return [...previous, v];
}

function unitInterval(name: string, max = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= max)) throw new InvalidArgumentError(`${name} must be a number in [0, ${max}], got '${v}'`);
    return n;
  };
}

/**
 * Add `keypoints predict` to a commander program: photos (files or folders) → faces (face-detector plugin,
 * `@keypoints/detector-face-api` by default, or `--box`) → the 15 keypoints in each photo's pixels
 * (see `predictPhotos` in `@keypoints/inference`); `--json`, `--csv`, `--draw`.
 *
 * @param backends the names `--backend` accepts (the CLI's registered backend plugins).
 * @returns `program`, for chaining.
 */
export function addPredictCommand(program: Command, backends: readonly string[]): Command {
  program
    .command('predict')
    .description("find the faces on photos (JPEG/PNG/WebP, any size) and predict their 15 keypoints in the photo's pixels")
    .argument('<images...>', 'image files or folders (a folder: every .jpg/.jpeg/.png/.webp in it, sorted)')
    .option('--model <dir>', 'run directory (runs/net6) or specialists folder (specialists.json); default: the shipped model (@keypoints/default-model)')
    .option('--json <file>', 'write [{file, width, height, faces: [{box, score, crop, keypoints}]}] (photo pixels)')
    .option('--csv <file>', 'write one row per face: file, face, box, score, the 30 Kaggle columns (photo pixels)')
    .option('--draw <dir>', 'write each photo with boxes and keypoints drawn (<dir>/<name>.png)')
    .option(
      '--box <x,y,w,h|file>',
      'skip detection: the face crop in photo pixels (a pre-cropped face: 0,0,96,96 on a 96×96 image), repeatable; or a JSON file [[x,y,w,h],…] or {"<file>": [[x,y,w,h],…]}',
      collect,
    )
    .addOption(new Option('--detector <model>', "face-api detector: tiny face detector or SSD MobileNet v1").choices(['tiny', 'ssd']).default('tiny'))
    .option('--min-score <s>', 'minimum detector score (default 0.3)', unitInterval('--min-score'))
    .option('--padding <f>', 'border added around the photo before detection, fraction of its larger side (default 0.5)', unitInterval('--padding', 2))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(backends))
    .action(
      async (
        images: string[],
        o: { model?: string; json?: string; csv?: string; draw?: string; box?: string[]; detector: 'tiny' | 'ssd'; minScore?: number; padding?: number; backend?: string },
      ) => {
        const { ConfigError, container, resolveFaceDetector } = await import('@keypoints/core');
        const inference = await import('@keypoints/inference');
        let boxes: import('@keypoints/inference').GivenBoxes | undefined;
        if (o.box !== undefined && o.box.length > 0) {
          const numeric = o.box.filter((b) => /^[\s\d.,+-]+$/.test(b));
          const files = o.box.filter((b) => !/^[\s\d.,+-]+$/.test(b));
          if (files.length > 1 || (files.length === 1 && numeric.length > 0)) {
            throw new ConfigError('--box: give boxes x,y,w,h (repeatable) or one boxes JSON file, not both');
          }
          boxes = files.length === 1 ? await inference.readBoxesFile(files[0]) : numeric.map(inference.parseBox);
        }
        let detector: import('@keypoints/core').FaceDetector | undefined;
        if (!Array.isArray(boxes)) {
          const { registerFaceApiDetector } = await import('@keypoints/detector-face-api');
          const host = registerFaceApiDetector(container.createChildContainer(), { model: o.detector, minScore: o.minScore, padding: o.padding });
          detector = resolveFaceDetector(host);
        }
        const r = await inference.predictPhotos(images, { model: o.model, backend: o.backend, detector, boxes, drawDir: o.draw });
        detector?.dispose?.();
        if (o.json !== undefined) await inference.writePhotoPredictionsJson(o.json, r.photos);
        if (o.csv !== undefined) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile(o.csv, inference.photoPredictionsToCsv(r.photos));
        }
        if (o.json === undefined && o.csv === undefined && o.draw === undefined) {
          console.log(JSON.stringify(r.photos, null, 2));
          return;
        }
        const outputs = [o.json, o.csv, o.draw === undefined ? undefined : `${o.draw}/ (${r.drawn.length} PNG)`].filter((x) => x !== undefined);
        console.log(
          `${r.photos.length} photos, ${r.faces} faces${r.withoutFace > 0 ? ` (${r.withoutFace} photos without a face)` : ''} → ${outputs.join(', ')}`,
        );
      },
    );
  return program;
}
