/**
 * `@keypoints/core/node`: the Node-only part of core (it imports `node:fs`, `node:module`), kept out of the
 * browser-safe main entry. Crash-safe file and folder writes; the run history file format; the loader of the
 * native tfjs packages (`@tensorflow/tfjs-node`, `-node-gpu`) used by the node backend plugins.
 */
export { writeFileAtomic, replaceDirAtomic, findInterruptedSwap } from './atomic-write.js';
export type { AtomicFileData, WriteFileAtomicOptions } from './atomic-write.js';
export { writeHistory, readHistory, historyToCsv, HISTORY_CSV_COLUMNS } from './history-file.js';
export type { HistoryRow } from './epoch-logs.js';
export {
  TFJS_NATIVE_BACKEND,
  TFJS_NATIVE_VERSION,
  installRemedy,
  loadedNativePackage,
  importNativePackage,
  initNativeBackend,
} from './tfjs-native.js';
export type { TfjsNativePackage, NativeFlavour, NativeModuleLoader } from './tfjs-native.js';
