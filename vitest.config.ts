import { defineConfig } from 'vitest/config';

/**
 * Inside the monorepo, tests run on the packages' TypeScript sources: the `@keypoints/source`
 * export condition (first in every package's `exports`) points at `src/index.ts`; installed
 * packages resolve `import`/`types` to the compiled `dist/`.
 */
const conditions = ['@keypoints/source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
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
