import { MODEL_PRESETS, MODEL_PRESET_NAMES, RECOMMENDED_PRESET, type ModelPreset, type TrainConfigInput } from '@keypoints/pipeline';

/**
 * One experiment: a named training configuration, as data (in the spirit of kfkd.py).
 * Every experiment is an nx target: `npx nx run experiments:<name>`.
 */
export interface Experiment {
  readonly name: string;
  /** What it reproduces. */
  readonly source: string;
  /** One line for the README and `--help`. */
  readonly description: string;
  /** Training settings; `epochs` is Nouri's by default and can be overridden with `--epochs`. */
  readonly config: TrainConfigInput;
}

const SOURCES: Record<ModelPreset, string> = {
  net1: 'Nouri 2014, net1; Staravoitau 2017, single hidden layer',
  net2: 'Nouri 2014, net2; Staravoitau 2017, 3con_2fc',
  net3: 'Nouri 2014, net3 (FlipBatchIterator)',
  net4: 'Nouri 2014, net4 (AdjustVariable)',
  net5: 'Nouri 2014, net5',
  net6: 'Nouri 2014, net6 (dropout)',
  net7: 'Nouri 2014, net7 (dense 1000)',
  net8: 'Nouri 2014, final net (longer, early stopping)',
  conv4: 'this project (AdamW, cosine, Wing loss, augmentation), docs/results.md',
  conv4bn: 'this project (conv4 with batch normalization), docs/results.md',
  conv4x2: 'this project (conv4, two convolutions per block), docs/results.md',
};

/**
 * The experiment ladder: one per model preset — Nouri's with SGD with Nesterov momentum (lr 0.01,
 * momentum 0.9 unless the preset schedules them), batch 128, Nouri's epochs; the modern presets with
 * their own settings — and `recommended` (the preset `RECOMMENDED_PRESET` names).
 */
export const EXPERIMENTS: readonly Experiment[] = [
  ...MODEL_PRESET_NAMES.map((name) => ({
    name,
    source: SOURCES[name],
    description: `${MODEL_PRESETS[name].summary}, ${MODEL_PRESETS[name].epochs} epochs`,
    config: MODEL_PRESETS[name].convNet ? { model: name, name } : { model: name, name, batchSize: 128, learningRate: 0.01, momentum: 0.9 },
  })),
  {
    name: 'recommended',
    source: `alias of ${RECOMMENDED_PRESET} (${SOURCES[RECOMMENDED_PRESET]})`,
    description: `the recommended preset, ${RECOMMENDED_PRESET}: ${MODEL_PRESETS[RECOMMENDED_PRESET].summary}`,
    config: { model: 'recommended', name: 'recommended' },
  },
];

/** Find an experiment by name. @throws {Error} listing the known names. */
export function experiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment '${name}'; known: ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}
