import { z } from 'zod';
import { SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import { SAMPLE_TRAINING_CSV } from '@keypoints/sample-data';

/** Keypoint sets a run can train: `full` (all 30 columns) or one of Nouri's six specialist groups. */
export const KEYPOINT_SET_NAMES = ['full', ...SPECIALIST_KEYPOINT_SETS.map((s) => s.name)] as [string, ...string[]];

/** Defined with the manifest's schema (`specialists-manifest.ts`); re-exported here for existing imports. */
export { SPECIALISTS_MANIFEST } from './specialists-manifest.js';

/** The embedded default training set (converted YouTube-Faces sample, `@keypoints/sample-data`). */
export const DEFAULT_TRAINING_DATA: string = SAMPLE_TRAINING_CSV;

/**
 * A linear schedule `start → stop`, planned over `epochs` epochs (default: the run's `epochs`).
 * `epochs` is pinned in `config.json` when a run is resumed: a schedule keeps the span it was
 * planned over and holds `stop` past it (see `ScheduleCallback`).
 */
const range = z
  .object({ shape: z.literal('linear').optional(), start: z.number(), stop: z.number(), epochs: z.number().int().positive().optional() })
  .strict();

/**
 * Cosine annealing with a linear warm-up (`cosineSchedule` of `@keypoints/training`): `warmup` epochs
 * rising to `start`, then half a cosine down to `stop` at the end of the span (`epochs`, else the
 * run's; with `maxTime`, the epochs that fit in the time budget).
 */
const cosine = z
  .object({
    shape: z.literal('cosine'),
    start: z.number().positive(),
    stop: z.number().positive(),
    warmup: z.number().int().min(0).default(0),
    epochs: z.number().int().positive().optional(),
  })
  .strict();

/**
 * The modern CNN (`buildConvNet` of `@keypoints/models`): 3×3 'same' convolutions in blocks, each
 * block ending in a 2×2 max-pool, batch normalization, one hidden dense layer. Not in Nouri 2014.
 */
const convNet = z
  .object({
    /** Filters per block (1–6 blocks), e.g. `[16, 32, 64, 128]`. */
    filters: z.array(z.number().int().positive()).min(1).max(6),
    /** 3×3 convolutions per block. */
    convsPerBlock: z.number().int().positive().default(1),
    /** Batch normalization after every convolution. */
    batchNorm: z.boolean().default(true),
    /** Units of the hidden dense layer. */
    dense: z.number().int().positive().default(256),
    /** Dropout rate after the hidden dense layer. */
    dropout: z.number().min(0).lt(1).default(0),
  })
  .strict();

/**
 * A training run's settings (written to `config.json` in the run directory). Every field has a
 * default from the model preset (see {@link MODEL_PRESETS}); explicit fields override the preset.
 */
export const TrainConfigSchema = z
  .object({
    /** Model preset: `net1` … `net8` (Nouri 2014), or this project's modern `conv4`, `conv4bn`, `conv4x2` (see `MODEL_PRESETS`). */
    model: z.enum(['net1', 'net2', 'net3', 'net4', 'net5', 'net6', 'net7', 'net8', 'conv4', 'conv4bn', 'conv4x2']),
    /** Run name (folder under `runs/`); default: the model preset. */
    name: z.string().min(1).optional(),
    /** Kaggle-format training file (.csv, .csv.gz, .zip); default the embedded sample. */
    data: z.string().min(1).default(DEFAULT_TRAINING_DATA),
    /** Read only the first rows of the file (quick runs); default: all. */
    maxRows: z.number().int().positive().optional(),
    epochs: z.number().int().positive(),
    batchSize: z.number().int().positive().default(128),
    /**
     * Optimizer: `nesterov` (SGD with Nesterov momentum, Nouri 2014; default), `adam` (Kingma & Ba
     * 2015) or `adamw` (decoupled weight decay, Loshchilov & Hutter 2019).
     */
    optimizer: z.enum(['nesterov', 'adam', 'adamw']).default('nesterov'),
    /** AdamW's decoupled weight decay (per unit learning rate); `adamw` only, default 1e-4 there. */
    weightDecay: z.number().min(0).optional(),
    /**
     * Training loss: `mse` (Nouri 2014; default), `l1`, or `wing` (Feng et al. 2018, w = 10 px,
     * ε = 2 px). Reported figures are RMSE in pixels whatever the loss.
     */
    loss: z.enum(['mse', 'l1', 'wing']).default('mse'),
    /** Initial learning rate (SGD with Nesterov momentum; Adam's step size). */
    learningRate: z.number().positive().default(0.01),
    /** Initial momentum. */
    momentum: z.number().min(0).lt(1).default(0.9),
    /**
     * Linear learning-rate schedule over the run's epochs (Nouri's AdjustVariable), e.g. 0.03 → 0.0001;
     * with `epochs`, over that many (then it holds `stop`).
     */
    learningRateSchedule: z.union([range, cosine]).optional(),
    /** Linear momentum schedule, e.g. 0.9 → 0.999 (`epochs`: as for `learningRateSchedule`). */
    momentumSchedule: range.optional(),
    /** Flip half of each training batch (net3, net5+). */
    flip: z.boolean().default(false),
    /** Random small shifts / rotations / scalings of training faces (not in Nouri 2014). */
    affine: z.boolean().default(false),
    /** Random brightness and contrast changes of training faces (not in Nouri 2014). */
    photometric: z.boolean().default(false),
    /** The modern CNN instead of the preset's Nouri net (see `buildConvNet`); set by the modern presets. */
    convNet: convNet.optional(),
    /** CNN dense layer sizes (net2–net6: 500/500; net7+: 1000/1000). */
    dense: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
    /** Nouri's dropout 0.1/0.2/0.3 after the pools and 0.5 after hidden4 (net6+). */
    dropout: z.boolean().default(false),
    /** CNN padding (`valid` as in Nouri 2014). */
    padding: z.enum(['valid', 'same']).default('valid'),
    /**
     * Keypoints the model predicts: `full` (30 columns) or a specialist group (`eye_center`, `nose_tip`,
     * `mouth_corners_top_lip`, `mouth_bottom_lip`, `eye_corners`, `eyebrows`; Nouri 2014 kfkd.py
     * `SPECIALIST_SETTINGS`). A specialist trains on the rows that have its own columns; its default
     * epochs are round(4e6 / rows) and its default patience 200, as in kfkd.py.
     */
    keypoints: z.enum(KEYPOINT_SET_NAMES).default('full'),
    /**
     * Run directory of a trained CNN whose weights initialise every layer except the output
     * (supervised pre-training, Nouri 2014 `fit_specialists(fname_pretrain)`); same preset required.
     */
    pretrained: z.string().min(1).optional(),
    /**
     * Rows missing some of the run's keypoints: `drop` them (Nouri's `dropna()`, default) or keep them
     * and `mask` the missing targets out of the loss (they contribute nothing).
     */
    missing: z.enum(['drop', 'mask']).default('drop'),
    /**
     * A Kaggle keypoint table (e.g. the real `training_keypoints_only.csv`) whose missing-value pattern
     * is transplanted onto the **training** rows (seeded), to reproduce Kaggle's missing keypoints on a
     * complete set; validation stays complete.
     */
    missingLike: z.string().min(1).optional(),
    /** Threads of the wasm backend; default every core. */
    threads: z.number().int().positive().optional(),
    /** Early-stopping patience in epochs on the validation loss; none by default. */
    patience: z.number().int().positive().optional(),
    /**
     * Wall-time budget of the fit, **minutes** (> 0, fractions allowed; PyTorch Lightning
     * `Trainer(max_time=…)`): the run stops at the first epoch end where the budget is spent or what
     * is left of it is smaller than the last epoch took, and the saved model is the best epoch's
     * (validation loss). `epochs` stays the upper limit. Resumed runs continue the same budget.
     * None by default.
     */
    maxTime: z.number().positive().finite().optional(),
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
  .strict()
  .superRefine((c, ctx) => {
    if (c.momentumSchedule && c.optimizer !== 'nesterov') {
      ctx.addIssue({ code: 'custom', path: ['momentumSchedule'], message: `a momentum schedule needs optimizer 'nesterov' (Adam's β1 is fixed), got '${c.optimizer}'` });
    }
    if (c.weightDecay !== undefined && c.weightDecay > 0 && c.optimizer !== 'adamw') {
      ctx.addIssue({ code: 'custom', path: ['weightDecay'], message: `weight decay is AdamW's: set optimizer 'adamw' (got '${c.optimizer}')` });
    }
    if (c.convNet && c.model === 'net1') {
      ctx.addIssue({ code: 'custom', path: ['convNet'], message: "net1 is the fully connected net: give 'convNet' with a CNN preset" });
    }
  });

/** Validated training settings. */
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
/** A model preset name. */
export type ModelPreset = TrainConfig['model'];
/**
 * Settings as a user writes them (preset and defaults not applied; `epochs` defaults to the preset's);
 * `model` may also be the alias `recommended` (see `RECOMMENDED_PRESET`).
 */
export type TrainConfigInput = Omit<z.input<typeof TrainConfigSchema>, 'epochs' | 'model'> & { epochs?: number; model: ModelPreset | 'recommended' };
