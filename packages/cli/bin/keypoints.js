#!/usr/bin/env node
// The `keypoints` command. This monorepo ships TypeScript sources (no build step): tsx's loader
// is registered in this same process (so signals such as Ctrl-C or SIGKILL reach the training
// process itself), with the workspace's compiler options (experimental decorators) whatever the
// current directory, then the CLI runs.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)) });
const { main } = await import('../src/main.ts');
await main(process.argv);
