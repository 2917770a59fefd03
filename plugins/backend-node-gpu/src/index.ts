export { registerNodeGpuBackend } from './register.js';
export {
  createNodeGpuBackend,
  nodeGpuBackend,
  NODE_GPU_BACKEND_NAME,
  NODE_GPU_BACKEND_PRIORITY,
} from './node-gpu.backend.js';
export type { NodeGpuBackendOptions } from './node-gpu.backend.js';
export { TFJS_NATIVE_VERSION } from '@keypoints/core/node';
export type { NativeModuleLoader, TfjsNativePackage } from '@keypoints/core';
