#!/usr/bin/env node
// The `keypoints` command. This monorepo ships TypeScript sources (no build step): tsx's loader
// is registered in this same process (so signals such as Ctrl-C or SIGKILL reach the training
// process itself), then the CLI runs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
