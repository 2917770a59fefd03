import type { DataType, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's `BackendWasm` the kernels of this package use. */
export interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset >>> 0;
}

/** Call another kernel function of the same backend at kernel level (no engine bookkeeping). */
export function callKernel(
  kernel: KernelFunc,
  backend: WasmBackendInternals,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  return kernel({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

/**
 * Whether a fused op's epilogue is one this package's kernels apply themselves (bias + ReLU in the
 * same pass): activation `linear` or `relu`, no PReLU weights, and a float32 bias of `channels`
 * values or none. Shared by the fused matMul and the convolutions.
 */
export function nativeEpilogue(
  activation: string,
  bias: TensorInfo | undefined,
  preluActivationWeights: TensorInfo | undefined,
  channels: number,
): boolean {
  return (
    (activation === 'linear' || activation === 'relu') &&
    preluActivationWeights == null &&
    (bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === channels))
  );
}
