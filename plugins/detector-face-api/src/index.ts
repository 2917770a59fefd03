/**
 * `@keypoints/detector-face-api`: the default face detector of `keypoints predict` — `@vladmandic/face-api`'s
 * tiny face detector (or SSD MobileNet v1) with the weights shipped in that npm package, run by the host's
 * `@tensorflow/tfjs`. Register it with `registerFaceApiDetector(container)` (no import side effects);
 * default export: the detector factory.
 */
export {
  createFaceApiDetector,
  registerFaceApiDetector,
  FACE_API_CROP_RULES,
  DEFAULT_MIN_SCORE,
  DEFAULT_PADDING,
  DEFAULT_RETRY_PADDING,
} from './face-api.detector.js';
export type { FaceApiDetectorOptions, FaceApiModel } from './face-api.detector.js';
export { edgePadded } from './shared.js';
export { default } from './face-api.detector.js';
