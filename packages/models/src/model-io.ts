import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelIOError, isKeypointsError } from '@keypoints/core';
import { findInterruptedSwap, replaceDirAtomic } from '@keypoints/core/node';
import { toStandardDropoutJson } from './dropout.layer.js';

/** File name of the topology + weights manifest in a model directory. */
export const MODEL_JSON = 'model.json';
/** File name of the weights (one shard, float32 little-endian, manifest order). */
export const WEIGHTS_BIN = 'weights.bin';

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Also save the optimizer's state (to resume training). Default `false`. */
  readonly includeOptimizer?: boolean;
  /**
   * Store every float32 weight as `uint8` with a per-weight affine map (TensorFlow.js weight
   * quantization: `value ≈ q × scale + min`, the manifest entry carries `quantization: { dtype:
   * 'uint8', min, scale }`), a quarter of the bytes. Stock `tf.loadLayersModel` and {@link loadModel}
   * dequantize on load. Lossy: each value moves by at most `scale / 2` = (max − min) / 510 of its
   * weight; measure the accuracy cost before shipping. Default: none (float32, exact).
   */
  readonly quantize?: 'uint8';
  /**
   * Write only standard TensorFlow.js layer classes, so the folder loads with stock
   * `tf.loadLayersModel` (Node or browser) and no `@keypoints` import: each `KeypointsDropout` is
   * written as the standard `Dropout` (same `name`, `rate`; no `seed`), which predicts exactly
   * the same (dropout is the identity at inference). Weights are unchanged. Default `true` — every
   * model saved for use (a run's `model/`, the shipped default model). `false` keeps
   * `KeypointsDropout` with its mask seed, for training checkpoints that a resume continues with
   * the same masks; {@link loadModel} reads both.
   */
  readonly portable?: boolean;
}

/** Where {@link saveModel} wrote the model. */
export interface SavedModelInfo {
  /** Absolute path of the model directory. */
  readonly dir: string;
  /** Absolute path of `model.json`. */
  readonly modelJsonPath: string;
  /** Absolute path of `weights.bin`. */
  readonly weightsPath: string;
  /** Size of `weights.bin` in bytes. */
  readonly weightBytes: number;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Fail when the weights do not match the topology exactly (tfjs `strict`). Default `true`. */
  readonly strict?: boolean;
}

/** Entries a model directory may hold; saveModel refuses to replace a folder with anything else. */
const MODEL_FILE = /^(model\.json|weights\.bin|group\d+-shard\d+of\d+(\.bin)?)$/;

/**
 * Save a layers model in the TensorFlow.js layers format — `dir/model.json` (topology,
 * weights manifest) and `dir/weights.bin` — with `node:fs`, without tfjs-node.
 *
 * Portable by default ({@link SaveModelOptions.portable}): the topology holds only standard
 * TensorFlow.js classes (our `KeypointsDropout` is written as `Dropout`), so stock
 * `tf.loadLayersModel` reads the folder in Node or a browser without any `@keypoints` package,
 * and predicts what `model` predicts in inference mode. Checkpoints pass `portable: false`.
 *
 * Atomic (`replaceDirAtomic` of `@keypoints/core/node`): the files are written into a temporary
 * sibling folder, fsynced, then swapped in with renames, so a failure or crash mid-save leaves the
 * previous model in `dir` intact.
 * (A crash in the microseconds between the two renames leaves the previous model in
 * `.<name>.old-*` beside `dir`; {@link loadModel} points at it.) Missing parent folders are
 * created. Not safe for two concurrent saves to one `dir`.
 *
 * @param model the model to save (its weights are read on the current backend).
 * @param dir the model directory; created, or replaced if it holds only model files.
 * @returns where the files went.
 * @throws {ModelIOError} naming the path when `dir` holds other files, is not a folder, or a
 *   write fails.
 *
 * @example
 * ```ts
 * import { buildFullyConnected, saveModel, loadModel } from '@keypoints/models';
 * await saveModel(buildFullyConnected({ seed: 1 }), 'runs/1fc_b128_e400/model');
 * const model = await loadModel('runs/1fc_b128_e400/model');
 * // The same folder with stock tfjs only (e.g. in a browser, served over http):
 * // const same = await tf.loadLayersModel('https://example.org/runs/1fc_b128_e400/model/model.json');
 * ```
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<SavedModelInfo> {
  const target = resolve(dir);
  let info: SavedModelInfo | undefined;
  const handler = tf.io.withSaveHandler(async (saved) => {
    let artifacts = options.portable ?? true ? portableArtifacts(saved) : saved;
    if (options.quantize === 'uint8') artifacts = quantizeUint8(artifacts);
    info = await writeAtomically(target, artifacts);
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
  try {
    await model.save(handler, { includeOptimizer: options.includeOptimizer ?? false });
  } catch (error) {
    if (isKeypointsError(error)) throw error;
    throw new ModelIOError(`cannot save model to ${target}: ${(error as Error).message}`, { cause: error });
  }
  if (info === undefined) throw new ModelIOError(`cannot save model to ${target}: tfjs did not call the save handler`);
  return info;
}

async function writeAtomically(target: string, artifacts: tf.io.ModelArtifacts): Promise<SavedModelInfo> {
  const modelTopology = artifacts.modelTopology;
  if (modelTopology instanceof ArrayBuffer || modelTopology === undefined) {
    throw new ModelIOError(`cannot save model to ${target}: only layers models (JSON topology) are supported`);
  }
  await assertReplaceable(target);
  try {
    return await replaceDirAtomic(target, async (tmp) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
      const modelJson: tf.io.ModelJSON = {
        modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig !== undefined ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature !== undefined ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata !== undefined ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // replaceDirAtomic fsyncs both files before it swaps the folder in.
      await writeFile(join(tmp, WEIGHTS_BIN), weights);
      await writeFile(join(tmp, MODEL_JSON), JSON.stringify(modelJson));
      return {
        dir: target,
        modelJsonPath: join(target, MODEL_JSON),
        weightsPath: join(target, WEIGHTS_BIN),
        weightBytes: weights.byteLength,
      };
    });
  } catch (error) {
    if (isKeypointsError(error)) throw error;
    throw new ModelIOError(`cannot save model to ${target}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The artifacts with a topology of standard TensorFlow.js classes only: every serialised layer
 * (at any depth, e.g. inside a nested model) that is a `KeypointsDropout` becomes a `Dropout`
 * (see `toStandardDropoutJson`). Weights and everything else are unchanged.
 */
function portableArtifacts(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const topology = artifacts.modelTopology;
  if (topology === undefined || topology instanceof ArrayBuffer) return artifacts;
  return { ...artifacts, modelTopology: standardClasses(topology) as tf.io.ModelArtifacts['modelTopology'] };
}

function standardClasses(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(standardClasses);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = standardClasses(v);
  return toStandardDropoutJson(out);
}

/**
 * The artifacts with every float32 weight stored as uint8 (`q = round((v − min) / scale)`,
 * `scale = (max − min) / 255`), as TensorFlow.js's converter quantizes: the manifest entry keeps
 * `dtype: 'float32'` and gains `quantization: { dtype: 'uint8', min, scale }`.
 */
function quantizeUint8(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (BYTES[spec.dtype] ?? 4);
    if (spec.dtype !== 'float32' || spec.quantization) {
      parts.push(new Uint8Array(data, offset, bytes));
      specs.push(spec);
    } else {
      const values = new Float32Array(data.slice(offset, offset + bytes));
      let min = Infinity;
      let max = -Infinity;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (n === 0) min = max = 0;
      const scale = max > min ? (max - min) / 255 : 1;
      const q = new Uint8Array(n);
      for (let i = 0; i < n; i++) q[i] = Math.round((values[i]! - min) / scale);
      parts.push(q);
      specs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
    }
    offset += bytes;
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { ...artifacts, weightSpecs: specs, weightData: out.buffer };
}

/** `target` must be absent, or a folder of model files only (never wipe a user's folder). */
async function assertReplaceable(target: string): Promise<void> {
  const stats = await stat(target).catch(() => undefined);
  if (stats === undefined) return;
  if (!stats.isDirectory()) {
    throw new ModelIOError(`cannot save model to ${target}: it exists and is not a folder`);
  }
  const others = (await readdir(target)).filter((name) => !MODEL_FILE.test(name));
  if (others.length > 0) {
    throw new ModelIOError(
      `cannot save model to ${target}: the folder holds files that are not part of a model (${others.slice(0, 5).join(', ')}` +
        `${others.length > 5 ? ', …' : ''}); saving replaces the whole folder, so pick an empty or model-only folder (e.g. ${join(target, 'model')})`,
    );
  }
}

/**
 * Load a layers model saved by {@link saveModel} (or any TensorFlow.js layers-format folder:
 * `model.json` and the weight files its manifest names), with `node:fs`, without tfjs-node.
 * The weights are checked against the manifest before tfjs sees them.
 *
 * @param dir the model directory.
 * @param options see {@link LoadModelOptions}.
 * @returns the model, on the current backend (call `dispose()` when done).
 * @throws {ModelIOError} naming the path and the problem: missing folder, missing or unreadable
 *   `model.json`, invalid JSON, no topology or weights manifest, a weight file that is missing,
 *   outside the folder or of the wrong size, or a topology tfjs cannot build.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<tf.LayersModel> {
  const root = resolve(dir);
  const stats = await stat(root).catch(() => undefined);
  if (stats === undefined) {
    const leftover = await findInterruptedSwap(root);
    throw new ModelIOError(
      `model folder not found: ${root}` +
        (leftover !== undefined
          ? ` (a save was interrupted; the previous model is in ${leftover} — rename it to ${basename(root)})`
          : ''),
    );
  }
  if (!stats.isDirectory()) throw new ModelIOError(`not a model folder (a file): ${root}`);

  const jsonPath = join(root, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ModelIOError(
      code === 'ENOENT'
        ? `missing ${MODEL_JSON} in ${root} (not a saved model folder?)`
        : `cannot read ${jsonPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(text) as tf.io.ModelJSON;
  } catch (error) {
    throw new ModelIOError(`${jsonPath}: corrupt JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof modelJson !== 'object' || modelJson === null || typeof modelJson.modelTopology !== 'object' || modelJson.modelTopology === null) {
    throw new ModelIOError(`${jsonPath}: no 'modelTopology' object; not a TensorFlow.js layers model`);
  }
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest) || !manifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new ModelIOError(`${jsonPath}: no valid 'weightsManifest' (an array of { paths, weights })`);
  }

  const specs = manifest.flatMap((group) => group.weights);
  const chunks: Uint8Array[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      const file = resolve(root, path);
      const rel = relative(root, file);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new ModelIOError(`${jsonPath}: weight path '${path}' points outside ${root}`);
      }
      try {
        chunks.push(await readFile(file));
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw new ModelIOError(
          code === 'ENOENT'
            ? `missing weight file ${file} (named in ${jsonPath})`
            : `cannot read ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  const actual = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  const expected = expectedBytes(specs);
  if (expected !== undefined && actual !== expected) {
    const files = manifest.flatMap((g) => g.paths.map((p) => join(root, p))).join(', ');
    throw new ModelIOError(
      `weights size mismatch: ${files} hold${manifest.length === 1 && manifest[0].paths.length === 1 ? 's' : ''} ${actual} bytes, ` +
        `but ${jsonPath} describes ${specs.length} weights of ${expected} bytes (truncated or from another model?)`,
    );
  }
  const weightData = new Uint8Array(actual);
  let offset = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, offset);
    offset += chunk.byteLength;
  }

  try {
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async () => [specs, weightData.buffer as ArrayBuffer]);
    return await tf.loadLayersModel({ load: async () => artifacts }, { strict: options.strict ?? true });
  } catch (error) {
    throw new ModelIOError(`cannot build the model in ${root}: ${(error as Error).message}`, { cause: error });
  }
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the manifest describes; undefined when it cannot be known (string weights). */
function expectedBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const elements = spec.shape.reduce((a, b) => a * b, 1);
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const size = BYTES[dtype];
    if (size === undefined) return undefined;
    total += elements * size;
  }
  return total;
}
