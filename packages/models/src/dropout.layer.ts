import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';

/** Options of {@link KeypointsDropout}. */
export interface KeypointsDropoutArgs {
  /** Fraction of units dropped while training, in [0, 1) (Lasagne's `p`, tfjs's `rate`). */
  readonly rate: number;
  readonly name?: string;
}

/** xorshift32 state of the dropout masks; seeded once per process from `Math.random`. */
let state = (Math.floor(Math.random() * 0xffffffff) | 1) >>> 0;

/**
 * The dropout multiplier of inverted dropout: `[size]` float32, each value `1 / (1 − rate)` with
 * probability `1 − rate` and 0 otherwise (xorshift32, unseeded like tfjs's own dropout masks).
 * One pass, no intermediate tensors: tfjs's `tf.dropout` draws every value through its JS
 * `randomUniform` (alea) and then runs add, floor and div over the whole mask, which was about
 * 0.2 s of each net6 training step at batch 128 (15 M mask values).
 */
export function dropoutMultiplier(size: number, rate: number): Float32Array {
  const keep = 1 - rate;
  const threshold = Math.floor(keep * 0x100000000);
  const scale = 1 / keep;
  const out = new Float32Array(size);
  let x = state;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (x >>> 0 < threshold) out[i] = scale;
  }
  state = x >>> 0 || 1;
  return out;
}

/**
 * Inverted dropout (Srivastava et al. 2014; Nouri 2014 net6+, Lasagne `DropoutLayer`): while
 * training, each unit is zeroed with probability `rate` and the others are scaled by
 * `1 / (1 − rate)`; at inference it is the identity. Same behaviour as `tf.layers.dropout`
 * without a noise shape, with masks drawn in one pass (see {@link dropoutMultiplier}).
 *
 * Serialised as class `KeypointsDropout` (registered with tfjs when `@keypoints/models` is
 * imported, so `loadModel` reads it back).
 *
 * @throws {ConfigError} when `rate` is not in [0, 1).
 */
export class KeypointsDropout extends tf.layers.Layer {
  static readonly className = 'KeypointsDropout';
  readonly rate: number;

  constructor(args: KeypointsDropoutArgs) {
    super(args.name !== undefined ? { name: args.name } : {});
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ConfigError(`dropout: rate must be in [0, 1), got ${String(args.rate)}`);
    }
    this.rate = args.rate;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMultiplier(x.size, this.rate), x.shape, 'float32')));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(KeypointsDropout);
