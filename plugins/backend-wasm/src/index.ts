export { registerWasmBackend } from './register.js';
export {
  createWasmBackend,
  defaultThreads,
  wasmBackend,
  wasmBackendInfo,
  WASM_BACKEND_NAME,
  WASM_BACKEND_PRIORITY,
} from './wasm.backend.js';
export type { WasmBackendInfo, WasmBackendOptions } from './wasm.backend.js';
export { TRAINING_GRADIENT_NAMES, TRAINING_KERNEL_NAMES } from './kernels/training-kernels.js';
export {
  THREADED_SIMD_BINARY,
  WASM_BINARY_NAMES,
  checkWasmPaths,
  defaultWasmDir,
  threadedSimdFile,
} from './wasm-files.js';
export type { WasmBinaryName, WasmPaths } from './wasm-files.js';
