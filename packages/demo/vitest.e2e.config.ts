import { defineConfig } from 'vitest/config';

/** `nx run demo:e2e`: the real-browser test only (the root vitest.config.ts never includes it). */
const conditions = ['@keypoints/source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['packages/demo/e2e/**/*.e2e.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
