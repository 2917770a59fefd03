export {
  KAGGLE_KEYPOINTS,
  KAGGLE_COLUMNS,
  KAGGLE_KEYPOINT_FLIP_PAIRS,
  IMAGE_COLUMN,
  IMAGE_ID_COLUMN,
  IDENTITY_COLUMN,
  FULL_KEYPOINT_SET,
  SPECIALIST_KEYPOINT_SETS,
  keypointSet,
} from './schema.js';
export type { KeypointName, KeypointSet } from './schema.js';
export {
  IMAGE_SIZE,
  IMAGE_PIXELS,
  KEYPOINT_CENTER,
  KEYPOINT_SCALE,
  toNormalized,
  toPixels,
  toIntensity,
  rmsePixelsFromMse,
} from './units.js';
export {
  KeypointsError,
  DataFormatError,
  DataNotFoundError,
  ConfigError,
  BackendInitError,
  backendAlias,
  ModelIOError,
  isKeypointsError,
  KEYPOINTS_ERROR_CODES,
} from './errors.js';
export type { KeypointsErrorCode, DataLocation } from './errors.js';
export { parseJsonText, formatSchemaIssues } from './parse-file.js';
export type { SchemaIssue } from './parse-file.js';
export { SeededRandom } from './rng.js';
export type { EpochLogs, HistoryRow } from './epoch-logs.js';
export { systemClock, consoleLogger, silentLogger } from './clock.js';
export type { Clock, Logger } from './clock.js';
export { selectBackend, backendNames, BackendRegistry, resolveBackend, activateTfjsBackend } from './backend.js';
export type { BackendPlugin, BackendSelection, TfjsBackendSwitch } from './backend.js';
export {
  BACKEND_PLUGINS,
  BACKEND_NAME,
  CALLBACKS,
  CLOCK,
  LOGGER,
  TRAINER_OPTIONS,
  TRAINER,
  FACE_DETECTORS,
} from './tokens.js';
export { IDENTITY_CROP_RULE, resolveFaceDetector } from './face-detector.js';
export type { FaceDetector, FaceBox, RgbImage, DetectorCropRule } from './face-detector.js';
export { container, inject, injectAll, injectable, instanceCachingFactory, Lifecycle } from './di.js';
export type { DependencyContainer, InjectionToken } from './di.js';
// The native-package loader (node:module, node:url) is in '@keypoints/core/node'; its types stay here.
export type { TfjsNativePackage, NativeFlavour, NativeModuleLoader } from './tfjs-native.js';
