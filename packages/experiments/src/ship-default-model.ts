#!/usr/bin/env node
/**
 * Make `@keypoints/default-model` from a trained run:
 *
 *   npx tsx --conditions=@keypoints/source packages/experiments/src/ship-default-model.ts --run runs/default-net5
 *
 * (run from the repository root, where the run's data file is). Writes `packages/default-model/run/`:
 * `model/` with uint8-quantized weights (`saveModel(…, { quantize: 'uint8' })`), `config.json` (the run's,
 * paths relative to the repository) and `metrics.json` (the run's, plus `provenance` — the command that
 * trained it — and `quantization`: the validation RMSE in px of the float32 model and of the shipped one,
 * on the run's own identity-grouped validation split). Prints both figures.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { isKeypointsError } from '@keypoints/core';
import { writeFileAtomic } from '@keypoints/core/node';
import { evaluateRun } from '@keypoints/inference';
import { loadModel, saveModel } from '@keypoints/models';
import { initBackend, readRunConfig } from '@keypoints/pipeline';

const program = new Command('ship-default-model')
  .requiredOption('--run <dir>', 'the trained run directory (config.json, metrics.json, model/)')
  .option('--out <dir>', 'the shipped run directory', 'packages/default-model/run')
  .action(async (o: { run: string; out: string }) => {
    const root = process.cwd();
    const run = resolve(o.run);
    const out = resolve(o.out);
    console.error(`backend: ${await initBackend('wasm')}`);
    const config = await readRunConfig(run);
    const metrics = JSON.parse(await readFile(join(run, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    const model = await loadModel(join(run, 'model'));
    await mkdir(out, { recursive: true });
    const saved = await saveModel(model, join(out, 'model'), { quantize: 'uint8' });
    model.dispose();
    const data = relative(root, config.data);
    const { out: _out, ...rest } = config;
    await writeFileAtomic(join(out, 'config.json'), JSON.stringify({ ...rest, name: 'default', data }, null, 2) + '\n');

    const float32 = await evaluateRun(run);
    const uint8 = await evaluateRun(out);
    const shipped = {
      ...metrics,
      model: 'default',
      data,
      provenance: {
        trainedBy: `npx nx run experiments:${config.model} --data=${data} --epochs=${config.epochs}${config.maxTime !== undefined ? ` --max-time=${config.maxTime}` : ''} --out=${relative(root, run)}`,
        shippedBy: `npx tsx --conditions=@keypoints/source packages/experiments/src/ship-default-model.ts --run ${relative(root, run)}`,
      },
      quantization: {
        dtype: 'uint8',
        weightBytes: saved.weightBytes,
        validationFaces: uint8.count,
        float32ValidRmsePx: float32.rmsePx,
        uint8ValidRmsePx: uint8.rmsePx,
      },
    };
    await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(shipped, null, 2) + '\n');
    console.log(
      `${relative(root, out)}: ${(saved.weightBytes / 1e6).toFixed(2)} MB of uint8 weights; validation RMSE on ${uint8.count} faces: ` +
        `float32 ${float32.rmsePx.toFixed(3)} px, shipped (uint8) ${uint8.rmsePx.toFixed(3)} px`,
    );
  });

try {
  await program.parseAsync();
} catch (err) {
  if (!isKeypointsError(err)) throw err;
  console.error(`ship-default-model: ${err.message}`);
  process.exit(1);
}
