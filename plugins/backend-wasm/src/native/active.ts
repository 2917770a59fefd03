import type { NativeKernels } from './native-kernels.js';

let active: NativeKernels | undefined;

/** The native kernels of this process's wasm backend (set by the backend's init). */
export function activeNativeKernels(): NativeKernels {
  if (active === undefined) {
    throw new Error('@keypoints/backend-wasm: training kernels used before createWasmBackend().init() finished');
  }
  return active;
}

export function setActiveNativeKernels(kernels: NativeKernels | undefined): void {
  active = kernels;
}
