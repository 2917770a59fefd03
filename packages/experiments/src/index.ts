export { EXPERIMENTS, experiment } from './experiments.js';
export type { Experiment } from './experiments.js';
