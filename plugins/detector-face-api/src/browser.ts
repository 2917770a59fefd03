/**
 * `@keypoints/detector-face-api/browser`: the same detector (options, padding with retry, calibrated crop
 * rules) over a **browser** build of `@vladmandic/face-api` — pass the module, e.g.
 * `import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js'` (it uses the page's
 * `@tensorflow/tfjs`), and the URL of a folder holding face-api's `model/` weights. No Node API.
 */
import { ModelIOError, type FaceDetector } from '@keypoints/core';
import { makeFaceApiDetector, type FaceApiDetectorOptions, type FaceApiModule } from './shared.js';

export { DEFAULT_MIN_SCORE, DEFAULT_PADDING, DEFAULT_RETRY_PADDING, FACE_API_CROP_RULES, detectWithPadding } from './shared.js';
export type { FaceApiDetectorOptions, FaceApiModel, FaceApiModule } from './shared.js';

/** Options of {@link createBrowserFaceApiDetector}. */
export interface BrowserFaceApiDetectorOptions extends FaceApiDetectorOptions {
  /** The URL of the folder with `tiny_face_detector_model-weights_manifest.json` (or the SSD's) and its `.bin`. */
  readonly modelUrl: string;
}

/**
 * face-api's detector in a browser, with the Node plugin's defaults (tiny, 416, min score 0.3, padding 0.5,
 * retry 1), so boxes match `keypoints predict`'s up to float rounding of the backend. Weights load on the
 * first `detect`.
 *
 * @throws {ConfigError} for an invalid option.
 */
export function createBrowserFaceApiDetector(api: FaceApiModule, options: BrowserFaceApiDetectorOptions): FaceDetector {
  return makeFaceApiDetector(options, async (model) => {
    const net = model === 'tiny' ? api.nets.tinyFaceDetector : api.nets.ssdMobilenetv1;
    try {
      if (!net.isLoaded) await net.loadFromUri!(options.modelUrl);
    } catch (error) {
      throw new ModelIOError(`cannot load face-api's ${model} detector weights from ${options.modelUrl}: ${(error as Error).message}`, { cause: error });
    }
    return { api, net };
  });
}
