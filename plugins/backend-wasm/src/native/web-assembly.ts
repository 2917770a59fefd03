/**
 * The few WebAssembly JS API types this package uses (the project compiles without the DOM lib,
 * and @types/node declares only part of the namespace).
 */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
/** A compiled module (opaque; structured-cloneable to worker threads). */
export type WasmModule = object;
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
}

/** `globalThis.WebAssembly`, typed. */
export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
