/**
 * `@keypoints/inference/browser`: the browser-safe part of inference — no `node:` import, no sharp, no file
 * system (a test walks this entry's import graph). Keypoints from an image already decoded in the page
 * (canvas `ImageData`): face box → the calibrated training crop (the same `cropForDetectorBox` as
 * `predictPhotos`) → 96 × 96 grey (pure-JS lanczos3, matching sharp's crop to a grey level or two) → a model
 * loaded with stock `tf.loadLayersModel` → the 15 keypoints in image pixels.
 */
export { cropForDetectorBox, cropForGivenBox, cropToPhotoPixels, photoToCropNormalized } from './face-crop.js';
export type { BoxTuple } from './face-crop.js';
export { toGrey, rgbaToRgb, cropGreyFace } from './crop-pixels.js';
export { toFacePredictions } from './face-keypoints.js';
export type { FacePrediction } from './face-keypoints.js';
export { loadKeypointModel, predictImageFaces } from './browser-predict.js';
export type { DecodedImage, FaceToPredict, PredictImageFacesOptions } from './browser-predict.js';
