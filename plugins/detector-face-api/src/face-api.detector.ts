import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FACE_DETECTORS, ModelIOError, type DependencyContainer, type FaceDetector } from '@keypoints/core';
import { makeFaceApiDetector, type FaceApiDetectorOptions, type FaceApiModule } from './shared.js';

export type { FaceApiModel, FaceApiDetectorOptions } from './shared.js';
export { DEFAULT_MIN_SCORE, DEFAULT_RETRY_PADDING, DEFAULT_PADDING, FACE_API_CROP_RULES } from './shared.js';

const require = createRequire(import.meta.url);

/**
 * face-api's Node build that uses the host's `@tensorflow/tfjs` (and `@tensorflow/tfjs-backend-wasm`)
 * instead of a bundled copy: `dist/face-api.node-wasm.js` requires both, so its tensors live in the same
 * engine as our models, on whichever backend is current (wasm, cpu, node).
 */
function loadFaceApi(): { api: FaceApiModule; modelDir: string } {
  try {
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
    const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    return { api, modelDir };
  } catch (error) {
    throw new ModelIOError(
      `cannot load @vladmandic/face-api (${(error as Error).message}); reinstall @keypoints/detector-face-api (npm install), or give the face boxes with --box`,
      { cause: error },
    );
  }
}

/**
 * A face detector over `@vladmandic/face-api`'s tiny face detector or SSD MobileNet v1, with the weights
 * shipped in that npm package (`model/`), run by the host's tfjs on its current backend. Weights load on
 * the first `detect`.
 *
 * @throws {ConfigError} for an invalid option.
 * @example
 * ```ts
 * const detector = createFaceApiDetector({ padding: 0.5 });
 * const faces = await detector.detect({ data: rgb, width, height }); // boxes in photo pixels
 * ```
 */
export function createFaceApiDetector(options: FaceApiDetectorOptions = {}): FaceDetector {
  return makeFaceApiDetector(options, async (model) => {
    const { api, modelDir } = loadFaceApi();
    const net = model === 'tiny' ? api.nets.tinyFaceDetector : api.nets.ssdMobilenetv1;
    try {
      if (!net.isLoaded) await net.loadFromDisk!(modelDir);
    } catch (error) {
      throw new ModelIOError(`cannot load face-api's ${model} detector weights from ${modelDir}: ${(error as Error).message}`, { cause: error });
    }
    return { api, net };
  });
}

/**
 * Register face-api's detector under `FACE_DETECTORS` (nothing is registered on import).
 *
 * @returns `container`, for chaining.
 */
export function registerFaceApiDetector(container: DependencyContainer, options: FaceApiDetectorOptions = {}): DependencyContainer {
  container.register(FACE_DETECTORS, { useValue: createFaceApiDetector(options) });
  return container;
}

/** Plugin factory (the module's default export): {@link createFaceApiDetector}. */
export default function createDetector(options: FaceApiDetectorOptions = {}): FaceDetector {
  return createFaceApiDetector(options);
}
