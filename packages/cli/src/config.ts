import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The embedded default training set (converted YouTube-Faces sample, see data/sample/README.md). */
export const DEFAULT_TRAINING_DATA = fileURLToPath(new URL('../../../data/sample/training.csv.gz', import.meta.url));

/** Model presets understood by `--model`. */
export const MODEL_PRESETS = ['net1'] as const;

/**
 * A training run's settings (written to `config.json` in the run directory). Defaults are
 * Nouri 2014's net1: lr 0.01, Nesterov momentum 0.9, batch 128, 20 % validation holdout.
 */
export const TrainConfigSchema = z
  .object({
    /** Model preset (`net1`: 9216 → 100 ReLU → 30). */
    model: z.enum(MODEL_PRESETS),
    /** Run name (folder under `runs/`); default: the model preset. */
    name: z.string().min(1).optional(),
    /** Kaggle-format training file (.csv, .csv.gz, .zip); default the embedded sample. */
    data: z.string().min(1).default(DEFAULT_TRAINING_DATA),
    epochs: z.number().int().positive(),
    batchSize: z.number().int().positive().default(128),
    learningRate: z.number().positive().default(0.01),
    momentum: z.number().min(0).lt(1).default(0.9),
    /** Fraction of rows (or identities' rows) held out for validation. */
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    /** `identity`: whole identities go to one side (when the file has an `Identity` column). */
    groupBy: z.enum(['auto', 'identity', 'none']).default('auto'),
    seed: z.number().int().default(42),
    /** Backend name (`wasm`, `cpu`, `node`, `node-gpu`); default: the first of the chain that loads. */
    backend: z.string().optional(),
    /** Output folder; default `runs/<name>`. */
    out: z.string().optional(),
  })
  .strict();

/** Validated training settings. */
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
/** Settings as a user writes them (defaults not applied). */
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
