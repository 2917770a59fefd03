#!/usr/bin/env node
// The `keypoints` command: the compiled CLI (`npm run build` makes dist/ inside the monorepo;
// installed packages ship it). Inside the monorepo, `npm run keypoints -- …` runs the sources.
import { main } from '../dist/main.js';

await main(process.argv);
