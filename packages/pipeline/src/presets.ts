import type { z } from 'zod';
import { TrainConfigSchema, type ModelPreset, type TrainConfig, type TrainConfigInput } from './config.js';

const NOURI_LR = { start: 0.03, stop: 0.0001 };
const NOURI_MOMENTUM = { start: 0.9, stop: 0.999 };

/** The modern recipe's training settings (not in Nouri 2014; ablations in docs/results.md). */
const MODERN = {
  epochs: 200,
  batchSize: 64,
  optimizer: 'adamw',
  weightDecay: 1e-4,
  learningRate: 2e-3,
  learningRateSchedule: { shape: 'cosine', start: 2e-3, stop: 1e-5, warmup: 2 },
  loss: 'wing',
  flip: true,
  affine: true,
  photometric: true,
} as const satisfies Partial<TrainConfigInput>;

/**
 * The ladder of Nouri 2014 (and Staravoitau 2017), as data: what each preset turns on and its
 * default number of epochs (Nouri's: net1 400, net2 1000, net3 3000, net4 1000, net5 3000, net6
 * 3000; net7 and net8 are this project's longer runs of the 1000/1000 net, net8 with Nouri's final
 * early stopping, patience 200).
 */
export const MODEL_PRESETS: Readonly<Record<ModelPreset, Partial<Omit<TrainConfigInput, 'model'>> & { readonly summary: string }>> = {
  net1: { summary: 'fully connected: 9216 → 100 ReLU → 30', epochs: 400 },
  net2: { summary: 'CNN 3con_2fc (conv 32/64/128, dense 500/500)', epochs: 1000 },
  net3: { summary: 'net2 + flip augmentation', epochs: 3000, flip: true },
  net4: { summary: 'net2 + learning-rate 0.03→0.0001 and momentum 0.9→0.999 schedules', epochs: 1000, learningRateSchedule: NOURI_LR, momentumSchedule: NOURI_MOMENTUM },
  net5: { summary: 'net4 + flips', epochs: 3000, flip: true, learningRateSchedule: NOURI_LR, momentumSchedule: NOURI_MOMENTUM },
  net6: { summary: 'net5 + dropout 0.1/0.2/0.3/0.5', epochs: 3000, flip: true, dropout: true, learningRateSchedule: NOURI_LR, momentumSchedule: NOURI_MOMENTUM },
  net7: { summary: 'net6 with dense 1000/1000', epochs: 5000, flip: true, dropout: true, dense: [1000, 1000], learningRateSchedule: NOURI_LR, momentumSchedule: NOURI_MOMENTUM },
  net8: { summary: 'net7, longer, with early stopping (patience 200)', epochs: 10000, flip: true, dropout: true, dense: [1000, 1000], learningRateSchedule: NOURI_LR, momentumSchedule: NOURI_MOMENTUM, patience: 200 },
  conv4: {
    summary: 'modern: 4 blocks of 3×3 conv (16/32/64/128) + ReLU + pool, dense 256; AdamW, cosine learning rate with warm-up, Wing loss, flip + affine + brightness/contrast',
    ...MODERN,
    convNet: { filters: [16, 32, 64, 128], batchNorm: false },
  },
  conv4bn: {
    summary: 'conv4 with batch normalization after every convolution',
    ...MODERN,
    convNet: { filters: [16, 32, 64, 128], batchNorm: true },
  },
  conv4x2: {
    summary: 'conv4 with two 3×3 convolutions per block (VGG-style)',
    ...MODERN,
    convNet: { filters: [16, 32, 64, 128], convsPerBlock: 2, batchNorm: false },
  },
};

/**
 * The preset `recommended` resolves to: the modern preset with the best validation RMSE at a fixed
 * wall-time budget on 2 cores (docs/results.md, "Time to accuracy").
 */
export const RECOMMENDED_PRESET: ModelPreset = 'conv4';

/** Model preset names, in ladder order (Nouri's, then the modern ones); `recommended` is an alias, not listed. */
export const MODEL_PRESET_NAMES = Object.keys(MODEL_PRESETS) as ModelPreset[];

/**
 * Apply the preset of `input.model` under the explicit fields, then validate.
 * @throws {ConfigError} (via the caller) on invalid settings.
 */
export function resolveTrainConfig(input: TrainConfigInput): z.SafeParseReturnType<z.input<typeof TrainConfigSchema>, TrainConfig> {
  if (input.model === 'recommended') input = { ...input, model: RECOMMENDED_PRESET };
  const preset = MODEL_PRESETS[input.model as ModelPreset];
  const { summary: _summary, ...defaults } = preset ?? { summary: '' };
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return TrainConfigSchema.safeParse({ ...defaults, ...defined });
}
