import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';

/** Options of {@link KeypointsDropout}. */
export interface KeypointsDropoutArgs {
  /** Fraction of units dropped while training, in [0, 1) (Lasagne's `p`, tfjs's `rate`). */
  readonly rate: number;
  readonly name?: string;
  /**
   * Seed of the masks (an integer, e.g. the run's `--seed`): the layer's stream starts at a state
   * mixed from the seed and the layer's name, so a seeded model draws the same masks in every
   * process; {@link KeypointsDropout.reseed} restarts it per epoch (the pipeline does that at each
   * epoch start, so a resumed run draws the masks an uninterrupted one would). Saved in the layer
   * config. Default: unseeded (a per-process stream seeded from `Math.random`).
   */
  readonly seed?: number;
}

/** A mutable xorshift32 state (never 0). */
interface MaskStream {
  state: number;
}

/** The stream of unseeded dropout layers: seeded once per process from `Math.random`. */
const unseeded: MaskStream = { state: (Math.floor(Math.random() * 0xffffffff) | 1) >>> 0 };

/**
 * A well-mixed non-zero 32-bit state from integers (murmur3's finaliser over each value in turn),
 * so nearby seeds, layers and epochs give unrelated mask streams.
 */
export function dropoutStreamState(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    // Fold the value's two 32-bit halves in (run seeds may exceed 2^32).
    for (const part of [v >>> 0, Math.floor(v / 0x100000000) >>> 0]) {
      h = Math.imul(h ^ part, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0 || 1;
}

/** A 32-bit hash of a layer name (FNV-1a), for {@link dropoutStreamState}. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The dropout multiplier of inverted dropout: `[size]` float32, each value `1 / (1 − rate)` with
 * probability `1 − rate` and 0 otherwise (xorshift32 from `stream`, which advances; default the
 * per-process unseeded stream). One pass, no intermediate tensors: tfjs's `tf.dropout` draws every
 * value through its JS `randomUniform` (alea) and then runs add, floor and div over the whole mask,
 * which was about 0.2 s of each net6 training step at batch 128 (15 M mask values).
 */
export function dropoutMultiplier(size: number, rate: number, stream: MaskStream = unseeded): Float32Array {
  const keep = 1 - rate;
  const threshold = Math.floor(keep * 0x100000000);
  const scale = 1 / keep;
  const out = new Float32Array(size);
  let x = stream.state;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (x >>> 0 < threshold) out[i] = scale;
  }
  stream.state = x >>> 0 || 1;
  return out;
}

/**
 * Inverted dropout (Srivastava et al. 2014; Nouri 2014 net6+, Lasagne `DropoutLayer`): while
 * training, each unit is zeroed with probability `rate` and the others are scaled by
 * `1 / (1 − rate)`; at inference it is the identity. Same behaviour as `tf.layers.dropout`
 * without a noise shape, with masks drawn in one pass (see {@link dropoutMultiplier}).
 *
 * Saving: a model's `model/` (`saveModel`'s default, `portable: true`) stores each of these
 * layers as the standard tfjs/Keras class `Dropout` (same `name` and `rate`, `noise_shape: null`,
 * no `seed`; see {@link toStandardDropoutJson}), so it loads with stock `tf.loadLayersModel` and no
 * `@keypoints` import, and predicts exactly the same (dropout is the identity at inference). Such a
 * model, loaded back, has tfjs's own `Dropout` layers (unseeded masks if trained further). Only
 * `saveModel(…, { portable: false })` (the training checkpoints) keeps the class `KeypointsDropout`
 * with its `seed`, registered with tfjs when `@keypoints/models` is imported, so `loadModel` reads
 * it back and a resumed run draws the same masks.
 *
 * @throws {ConfigError} when `rate` is not in [0, 1).
 */
export class KeypointsDropout extends tf.layers.Layer {
  static readonly className = 'KeypointsDropout';
  readonly rate: number;
  /** The mask seed ({@link KeypointsDropoutArgs.seed}); undefined when unseeded. */
  readonly seed: number | undefined;
  private readonly stream: MaskStream;

  constructor(args: KeypointsDropoutArgs) {
    super(args.name !== undefined ? { name: args.name } : {});
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ConfigError(`dropout: rate must be in [0, 1), got ${String(args.rate)}`);
    }
    if (args.seed !== undefined && args.seed !== null && !Number.isSafeInteger(args.seed)) {
      throw new ConfigError(`dropout: seed must be an integer, got ${String(args.seed)}`);
    }
    this.rate = args.rate;
    this.seed = args.seed ?? undefined;
    this.stream = this.seed === undefined ? unseeded : { state: dropoutStreamState(this.seed, nameHash(this.name)) };
    this.supportsMasking = true;
  }

  /**
   * Restart a seeded layer's mask stream at `epoch` (state from seed, layer name and epoch): the
   * masks of an epoch then depend only on the seed, the layer and the batch's place in the epoch,
   * whatever ran before (e.g. a resume). No effect on an unseeded layer.
   *
   * @param epoch - 0-based epoch about to run.
   */
  reseed(epoch: number): void {
    if (this.seed !== undefined) this.stream.state = dropoutStreamState(this.seed, nameHash(this.name), epoch + 1);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMultiplier(x.size, this.rate, this.stream), x.shape, 'float32')));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

/**
 * {@link KeypointsDropout.reseed} every seeded dropout layer of `model` for `epoch` (0-based).
 * @returns how many layers were reseeded.
 */
export function reseedDropout(model: tf.LayersModel, epoch: number): number {
  let n = 0;
  for (const layer of model.layers) {
    if (layer instanceof KeypointsDropout && layer.seed !== undefined) {
      layer.reseed(epoch);
      n++;
    }
  }
  return n;
}
tf.serialization.registerClass(KeypointsDropout);

/**
 * The standard `Dropout` form of one serialised {@link KeypointsDropout} layer (an entry of a
 * layers model's `modelTopology` `config.layers`, keys in the saved snake_case): `class_name`
 * becomes `Dropout`; the config keeps every base key (`name`, `trainable`, `dtype`,
 * `batch_input_shape`, …) and `rate`, gains `noise_shape: null` and loses `seed` — stock tfjs's
 * `Dropout` would reuse one seed for every call, drawing the same mask each step if the model were
 * trained further; unseeded it draws fresh masks. Other keys of the entry (`name`,
 * `inbound_nodes` of a functional model) are kept. Any other entry is returned as it is.
 *
 * @param layer one serialised layer (`{ class_name, config, … }`).
 * @returns a new object when `layer` is a `KeypointsDropout`, else `layer` itself.
 */
export function toStandardDropoutJson<T extends { class_name?: unknown; config?: unknown }>(layer: T): T {
  if (layer.class_name !== KeypointsDropout.className || typeof layer.config !== 'object' || layer.config === null) return layer;
  const { seed: _seed, ...config } = layer.config as Record<string, unknown>;
  return { ...layer, class_name: 'Dropout', config: { ...config, noise_shape: null } };
}

