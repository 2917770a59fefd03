import { fileURLToPath } from 'node:url';

/**
 * `@keypoints/default-model`: the model `keypoints predict` uses without `--model`. A run directory
 * (`config.json`, `metrics.json`, `model/` in the TensorFlow.js layers format with uint8-quantized
 * weights) that `loadPredictor` from `@keypoints/inference` and stock `tf.loadLayersModel` both read.
 * What it is, how it was trained (the exact command), its accuracy before and after quantization:
 * this package's README.md and `run/metrics.json`.
 *
 * Input `[N, 96, 96, 1]` float32 in [0, 1]; output `[N, 30]` normalized `(px − 48) / 48` in Kaggle column order.
 */
export const DEFAULT_MODEL_DIR: string = fileURLToPath(new URL('../run/', import.meta.url));
