import type { TrainConfigInput } from '@keypoints/cli';

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

/** The experiment ladder. */
export const EXPERIMENTS: readonly Experiment[] = [
  {
    name: 'net1',
    source: 'Nouri 2014, net1; Staravoitau 2017, single hidden layer',
    description: 'fully connected 9216 → 100 ReLU → 30, SGD lr 0.01 + Nesterov momentum 0.9, batch 128, 400 epochs',
    config: { model: 'net1', name: 'net1', epochs: 400, batchSize: 128, learningRate: 0.01, momentum: 0.9 },
  },
];

/** Find an experiment by name. @throws {Error} listing the known names. */
export function experiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment '${name}'; known: ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}
