export { registerNodeBackend } from './register.js';
export { createNodeBackend, nodeBackend, NODE_BACKEND_NAME, NODE_BACKEND_PRIORITY } from './node.backend.js';
export type { NodeBackendOptions } from './node.backend.js';
export { TFJS_NATIVE_VERSION } from '@keypoints/core/node';
export type { NativeModuleLoader, TfjsNativePackage } from '@keypoints/core';
