import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPECIALIST_KEYPOINT_SETS, silentLogger } from '@keypoints/core';
import { loadModel } from '@keypoints/models';
import { EarlyStoppingCallback, type TrainingEvent } from '@keypoints/training';
import { sharedData } from '@keypoints/test-support';
import { DEFAULT_TRAINING_DATA } from './config.js';
import { buildModel, callbacksOf, loadRunData, readRunConfig, trainRun } from './index.js';

/** A tiny CNN run (same padding, small dense) on 200 rows of the embedded sample. */
const tiny = { model: 'net2', maxRows: 200, dense: [16, 16], padding: 'same', batchSize: 64, backend: 'wasm' } as const;

/** The real Kaggle table, whose missing-value pattern one test transplants. */
const kaggle = sharedData({ files: ['kaggle/training_keypoints_only.csv'], what: 'the Kaggle missing-pattern test' });

describe('specialist runs (Nouri 2014: keypoint groups, supervised pre-training)', () => {
  it('trains a specialist from a pre-trained CNN: group-sized output, shared split, every layer but the output copied', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kp-spec-'));
    const full = join(root, 'net2');
    await trainRun({ ...tiny, epochs: 1, out: full }, { progress: false, logger: silentLogger });

    // Weights at epoch 0 of the specialist = the pre-trained ones (all but the output).
    const config = await readRunConfig(full);
    const pretrained = await loadModel(join(full, 'model'));
    const mouth = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'mouth_corners_top_lip')!;
    const start = buildModel({ ...config, keypoints: mouth.name }, pretrained);
    for (const layer of ['conv1', 'conv3', 'hidden5']) {
      expect(Array.from(start.getLayer(layer).getWeights()[0].dataSync())).toEqual(
        Array.from(pretrained.getLayer(layer).getWeights()[0].dataSync()),
      );
    }
    expect(start.outputs[0].shape).toEqual([null, 6]);
    start.dispose();
    pretrained.dispose();

    const out = join(root, 'mouth');
    const { metrics } = await trainRun(
      { ...tiny, epochs: 1, keypoints: mouth.name, pretrained: full, out },
      { progress: false, logger: silentLogger },
    );
    expect(metrics.columns).toEqual(mouth.columns);
    expect(metrics.modelName).toMatch(/_mouth_corners_top_lip_pre$/);
    const model = await loadModel(join(out, 'model'));
    expect(model.outputs[0].shape).toEqual([null, 6]);
    model.dispose();

    // Without --model the architecture comes from the pre-trained run; the default name says the group.
    const cwd = process.cwd();
    process.chdir(root); // the default run folder is runs/<name> under the working directory
    try {
      const { runDir } = await trainRun(
        { data: DEFAULT_TRAINING_DATA, maxRows: 200, batchSize: 64, backend: 'wasm', epochs: 1, keypoints: 'nose_tip', pretrained: full },
        { progress: false, logger: silentLogger },
      );
      expect(runDir).toBe(join(root, 'runs', 'net2_nose_tip'));
      const nose = await readRunConfig(runDir);
      expect([nose.model, nose.dense, nose.padding]).toEqual(['net2', [16, 16], 'same']);
    } finally {
      process.chdir(cwd);
    }
    // A run may not be written into the folder it is pre-trained from, and a misfit names the flags.
    await expect(trainRun({ ...tiny, epochs: 1, keypoints: 'nose_tip', pretrained: full, out: full }, { progress: false, logger: silentLogger })).rejects.toThrow(
      /is this run.s own folder/,
    );
    await expect(
      trainRun({ ...tiny, dense: [32, 16], epochs: 1, keypoints: 'nose_tip', pretrained: full, out: join(root, 'misfit') }, { progress: false, logger: silentLogger }),
    ).rejects.toThrow(/does not fit this run's model \(--model net2, --dense 32,16.*hidden4/);

    // Same validation faces as the full run (split before the group's rows are dropped).
    const fullData = await loadRunData(config);
    const mouthData = await loadRunData(await readRunConfig(out));
    expect(Array.from(mouthData.validation.sourceRows)).toEqual(Array.from(fullData.validation.sourceRows));
    expect(mouthData.validation.keypointSet).toBe(mouth);
  });

  it("defaults a specialist's epochs to round(4e6 / rows) and its patience to 200 (kfkd.py)", async () => {
    const root = await mkdtemp(join(tmpdir(), 'kp-spec-epochs-'));
    const abort = new AbortController();
    let starts: Extract<TrainingEvent, { type: 'fitStart' }> | undefined;
    await trainRun(
      { ...tiny, model: 'net1', keypoints: 'nose_tip', out: join(root, 'nose') },
      {
        progress: false,
        logger: silentLogger,
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'fitStart') starts = e;
          if (e.type === 'epochEnd') abort.abort();
        },
      },
    );
    expect(starts?.epochs).toBe(Math.round(4e6 / 200)); // all 200 rows have the nose tip
    const saved = JSON.parse(await readFile(join(root, 'nose', 'config.json'), 'utf8'));
    expect(saved.epochs).toBe(20000);
    expect(saved.keypoints).toBe('nose_tip');
    const stopper = (config: Parameters<typeof callbacksOf>[0]) => callbacksOf(config).find((c) => c instanceof EarlyStoppingCallback);
    expect((stopper(saved) as EarlyStoppingCallback).patience).toBe(200);
    expect((stopper({ ...saved, patience: 7 }) as EarlyStoppingCallback).patience).toBe(7);
    expect(stopper({ ...saved, keypoints: 'full' })).toBeUndefined();
  });

  it.skipIf(!kaggle.available)('transplants the real Kaggle missing-value pattern onto the training rows; mask keeps them, drop drops them', async () => {
    const base = { model: 'net1', maxRows: 400, epochs: 1, missingLike: kaggle.path('kaggle', 'training_keypoints_only.csv') } as const;
    const dropped = await loadRunData({ ...(await configOf(base)), missing: 'drop' });
    const masked = await loadRunData({ ...(await configOf(base)), missing: 'mask' });
    // Kaggle: 2140 of 7049 rows complete (~30 %), so "drop" keeps roughly a third of the training faces.
    expect(dropped.train.count / masked.train.count).toBeGreaterThan(0.2);
    expect(dropped.train.count / masked.train.count).toBeLessThan(0.45);
    // Validation is left complete and identical.
    expect(masked.validation.count).toBe(dropped.validation.count);
    expect(Array.from(masked.validation.mask).every((m) => m === 1)).toBe(true);
    const present = Array.from(masked.train.mask).reduce((a, b) => a + b, 0) / masked.train.mask.length;
    expect(present).toBeGreaterThan(0.4);
    expect(present).toBeLessThan(0.75);
  });
});

async function configOf(input: Record<string, unknown>) {
  const { resolveTrainConfig } = await import('./index.js');
  const parsed = resolveTrainConfig(input as never);
  if (!parsed.success) throw new Error(parsed.error.message);
  return parsed.data;
}
