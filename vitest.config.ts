import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One test file at a time: the wasm backend already uses every core, and running files in
    // parallel oversubscribes the two cores (slower, and see the wasm-backend hang note).
    fileParallelism: false,
  },
});
