#!/usr/bin/env node
/**
 * The consumer check (issue 10): use the packages as a user of another project does.
 *
 *   node tools/consumer-check/check.mjs [--keep] [--dir DIR]
 *
 * 1. `npm run build`, then `npm pack` every public workspace package (not `private`).
 * 2. Every tarball holds compiled JS + `.d.ts` only: no `.ts` sources, no tests, no `csrc/`.
 * 3. A fresh project outside the repository (a temporary folder, or `--dir`) installs the tarballs
 *    (each `@keypoints/*` pinned to its tarball through `overrides`), with a strict tsconfig
 *    (`strict`, `noUncheckedIndexedAccess`, `exactOptionalPropertyTypes`, no `experimentalDecorators`).
 * 4. The first ```ts block of the README section "Use the packages from another project" is written
 *    to `src/example.ts`, type-checked and compiled with that tsconfig, and run with plain `node`.
 * 5. The installed bin: `npx keypoints --version` and `npx keypoints train --model net1 --epochs 2`
 *    (the shipped sample is the default data).
 * Exits non-zero with the failing step named. Needs the npm registry (or npm's cache) for the
 * third-party dependencies and TypeScript.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const { values: args } = parseArgs({ options: { keep: { type: 'boolean', default: false }, dir: { type: 'string' } } });
const TYPESCRIPT = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies.typescript;
const TYPES_NODE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies['@types/node'];

function step(title) {
  console.log(`\nconsumer-check: ${title}`);
}

function run(cmd, argv, opts = {}) {
  console.log(`$ ${[cmd, ...argv].join(' ')}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  try {
    return execFileSync(cmd, argv, { stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...opts });
  } catch (err) {
    console.error(`consumer-check: FAILED: ${[cmd, ...argv].join(' ')} (exit ${err.status ?? err.signal})`);
    process.exit(1);
  }
}

function fail(message) {
  console.error(`consumer-check: FAILED: ${message}`);
  process.exit(1);
}

/** The public workspace packages: `{ name, dir }` of every package.json under packages/ and plugins/ that is not private. */
function publicPackages() {
  const out = [];
  for (const group of ['packages', 'plugins']) {
    for (const d of readdirSync(join(ROOT, group))) {
      const file = join(ROOT, group, d, 'package.json');
      if (!existsSync(file)) continue;
      const p = JSON.parse(readFileSync(file, 'utf8'));
      if (!p.private) out.push({ name: p.name, dir: join(group, d) });
    }
  }
  return out;
}

/** The README's first ```ts block under the heading "Use the packages from another project". */
function readmeExample() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('## Use the packages from another project');
  if (at < 0) fail('README.md has no section "## Use the packages from another project"');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) fail('README.md: no ```ts block in "Use the packages from another project"');
  return block[1];
}

const work = args.dir ? resolve(args.dir) : mkdtempSync(join(tmpdir(), 'keypoints-consumer-'));
if (work.startsWith(ROOT + '/')) fail(`--dir ${work} is inside the repository; a consumer lives outside it`);
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
rmSync(tarballs, { recursive: true, force: true });
rmSync(project, { recursive: true, force: true });
mkdirSync(tarballs, { recursive: true });
mkdirSync(join(project, 'src'), { recursive: true });

step('build every package from clean dist/ folders (tsc -b)');
const pkgs = publicPackages();
for (const p of pkgs) rmSync(join(ROOT, p.dir, 'dist'), { recursive: true, force: true });
run('npm', ['run', 'build'], { cwd: ROOT });

step('pack the public packages');
const packed = {};
for (const p of pkgs) {
  const json = run('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: join(ROOT, p.dir), capture: true });
  const [info] = JSON.parse(json);
  const bad = info.files
    .map((f) => f.path)
    .filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /(^|\/)(csrc|src)\//.test(f) || /(^|\/)(test-[^/]*|[^/]*\.test(-worker)?\.[^/]*)$|(^|\/)testing\//.test(f));
  if (bad.length) fail(`${p.name}: the tarball holds sources or tests: ${bad.slice(0, 5).join(', ')}`);
  if (!info.files.some((f) => f.path === 'dist/index.js') || !info.files.some((f) => f.path === 'dist/index.d.ts')) {
    fail(`${p.name}: the tarball has no dist/index.js + dist/index.d.ts`);
  }
  packed[p.name] = join(tarballs, info.filename);
  console.log(`  ${p.name}: ${info.filename} (${info.entryCount} files, ${(info.size / 1e6).toFixed(1)} MB)`);
}

step(`a fresh project outside the repository: ${project}`);
const overrides = Object.fromEntries(Object.entries(packed).map(([n, f]) => [n, `file:${f}`]));
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify(
    {
      name: 'keypoints-consumer',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(Object.entries(packed).map(([n, f]) => [n, `file:${f}`])),
      devDependencies: { typescript: TYPESCRIPT, '@types/node': TYPES_NODE },
      overrides,
    },
    null,
    2,
  ),
);
writeFileSync(
  join(project, 'tsconfig.json'),
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    },
    null,
    2,
  ),
);
writeFileSync(join(project, 'src', 'example.ts'), readmeExample());
// Every public package's typings, checked under the same flags (not only those the example reaches).
writeFileSync(
  join(project, 'src', 'all-packages.ts'),
  pkgs.map((p) => `export * as ${p.name.replace('@keypoints/', '').replace(/-(.)/g, (_, c) => c.toUpperCase())} from '${p.name}';`).join('\n') + '\n',
);
run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project });

step('one copy of @tensorflow/tfjs (a peer dependency everywhere)');
const copies = run('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], { cwd: project, capture: true })
  .trim()
  .split('\n')
  .filter(Boolean);
if (new Set(copies).size !== 1) fail(`expected one @tensorflow/tfjs-core, found ${copies.length}: ${copies.join(', ')}`);

step("type-check and compile the README's example under strict flags, no experimentalDecorators");
// skipLibCheck is off, so our .d.ts are checked under the consumer's flags too; errors inside other
// libraries' own typings (tfjs 4.22's under exactOptionalPropertyTypes) are theirs and only listed.
const tsc = (() => {
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (err) {
    return `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
})();
const errorFiles = [...tsc.matchAll(/^([^\s(]+)\(\d+,\d+\): error/gm)].map((m) => m[1]);
const ours = errorFiles.filter((f) => !f.startsWith('node_modules/') || f.startsWith('node_modules/@keypoints/'));
if (ours.length || (tsc && !errorFiles.length)) {
  console.error(tsc);
  fail(`the example or our typings do not compile under the strict consumer tsconfig (${ours.length} errors)`);
}
const theirs = [...new Set(errorFiles)];
if (theirs.length) console.log(`  (errors only in third-party typings, not ours: ${theirs.join(', ')})`);
if (!existsSync(join(project, 'dist', 'example.js'))) fail('tsc emitted no dist/example.js');

step('run it with plain node');
run('node', ['dist/example.js'], { cwd: project });

step('the installed keypoints bin');
const version = run('npx', ['keypoints', '--version'], { cwd: project, capture: true }).trim();
const expected = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version;
if (version !== expected) fail(`keypoints --version printed '${version}', expected ${expected}`);
console.log(`  keypoints --version: ${version}`);
run('npx', ['keypoints', 'train', '--model', 'net1', '--epochs', '2'], { cwd: project });
for (const f of ['config.json', 'history.json', 'metrics.json', 'model/model.json']) {
  if (!existsSync(join(project, 'runs', 'net1', f))) fail(`keypoints train wrote no runs/net1/${f}`);
}

console.log(`\nconsumer-check: OK (${pkgs.length} packages: ${pkgs.map((p) => basename(p.dir)).join(', ')})`);
if (!args.keep && !args.dir) rmSync(work, { recursive: true, force: true });
