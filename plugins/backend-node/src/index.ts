export { createNodeBackend, nodeBackend, NODE_BACKEND_NAME, NODE_BACKEND_PRIORITY } from './node.backend.js';
export type { NodeBackendOptions } from './node.backend.js';
export { TFJS_NATIVE_VERSION } from './tfjs-native.js';
export type { NativeModuleLoader, TfjsNativePackage } from './tfjs-native.js';
