export {
  createWasmBackend,
  wasmBackend,
  WASM_BACKEND_NAME,
  WASM_BACKEND_PRIORITY,
} from './wasm.backend.js';
export type { WasmBackendOptions } from './wasm.backend.js';
export { WASM_BINARY_NAMES, defaultWasmDir, checkWasmPaths } from './wasm-files.js';
export type { WasmBinaryName, WasmPaths } from './wasm-files.js';
