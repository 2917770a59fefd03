// @ts-check
'use strict';
/**
 * The experiment catalog (names and descriptions of `EXPERIMENTS`, the specialist groups), read
 * from the TypeScript sources — the single source of truth — by running
 * `packages/experiments/src/catalog.ts` with the `@keypoints/source` condition. That takes seconds
 * (it loads the pipeline), so the result is cached in nx's workspace-data folder under the hash of
 * every non-test source file of core, pipeline and experiments: any edit there reads it again.
 */
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { pathToFileURL } = require('node:url');

/** @typedef {{ name: string, source: string, description: string }} ExperimentEntry */
/** @typedef {{ experiments: ExperimentEntry[], specialists: string[] }} ExperimentCatalog */

/** The script that prints the catalog, relative to the workspace root. */
const CATALOG_SCRIPT = 'packages/experiments/src/catalog.ts';
/** The sources the catalog depends on (relative to the workspace root). */
const CATALOG_SOURCES = ['packages/experiments/src', 'packages/pipeline/src', 'packages/core/src'];
/** Bump when the cached shape changes. */
const CACHE_VERSION = '1';

/**
 * @param {string} dir absolute
 * @returns {string[]} non-test `.ts` files below `dir`, sorted
 */
function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  /** @type {string[]} */
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(p);
  }
  return files;
}

/**
 * @param {string} workspaceRoot
 * @returns {string} hex hash of the catalog's sources (paths and bytes)
 */
function catalogSourcesHash(workspaceRoot) {
  const hash = createHash('sha256').update(`v${CACHE_VERSION}\0`);
  for (const dir of CATALOG_SOURCES) {
    for (const file of sourceFiles(join(workspaceRoot, dir))) {
      hash.update(relative(workspaceRoot, file).split('\\').join('/')).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * @param {string} workspaceRoot
 * @returns {string} nx's workspace-data folder (honours NX_WORKSPACE_DATA_DIRECTORY)
 */
function workspaceDataDir(workspaceRoot) {
  try {
    return require('nx/src/utils/cache-directory').workspaceDataDirectoryForWorkspace(workspaceRoot);
  } catch {
    return join(workspaceRoot, '.nx', 'workspace-data');
  }
}

/**
 * @param {unknown} value
 * @returns {ExperimentCatalog}
 * @throws {Error} when it is not a catalog
 */
function validCatalog(value) {
  const c = /** @type {any} */ (value);
  const ok =
    c && Array.isArray(c.experiments) && Array.isArray(c.specialists) &&
    c.experiments.every((/** @type {any} */ e) => e && typeof e.name === 'string' && typeof e.description === 'string' && typeof e.source === 'string') &&
    c.specialists.every((/** @type {unknown} */ s) => typeof s === 'string');
  if (!ok) throw new Error(`${CATALOG_SCRIPT} printed no valid catalog ({experiments: [{name, source, description}], specialists: [name]})`);
  return c;
}

/**
 * Run the catalog script (seconds).
 * @param {string} workspaceRoot
 * @returns {ExperimentCatalog}
 * @throws {Error} with the script's stderr when it fails
 */
function runCatalogScript(workspaceRoot) {
  const tsx = pathToFileURL(require.resolve('tsx', { paths: [workspaceRoot] })).href;
  const r = spawnSync(process.execPath, ['--conditions=@keypoints/source', '--import', tsx, CATALOG_SCRIPT], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${CATALOG_SCRIPT} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-8).join('\n')}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return validCatalog(JSON.parse(line));
}

/**
 * The catalog, from the cache when the sources have not changed since it was read.
 * @param {string} workspaceRoot
 * @returns {ExperimentCatalog}
 */
function readExperimentCatalog(workspaceRoot) {
  const dir = join(workspaceDataDir(workspaceRoot), 'keypoints-nx-plugin');
  const key = catalogSourcesHash(workspaceRoot);
  const file = join(dir, `catalog-${key}.json`);
  if (existsSync(file)) {
    try {
      return validCatalog(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      // unreadable cache entry: read the sources again
    }
  }
  const catalog = runCatalogScript(workspaceRoot);
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.startsWith('catalog-')) rmSync(join(dir, old), { force: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(catalog));
  require('node:fs').renameSync(tmp, file);
  return catalog;
}

module.exports = { readExperimentCatalog, runCatalogScript, catalogSourcesHash, CATALOG_SCRIPT, CATALOG_SOURCES };
