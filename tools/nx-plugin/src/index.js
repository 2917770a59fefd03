// @ts-check
'use strict';
/**
 * `@keypoints/nx-plugin`: registered in nx.json `plugins`. For every project under packages/,
 * plugins/ and tools/ (a folder with a package.json) it infers `build`, `test` and `typecheck`
 * (see targets.js); on `@keypoints/experiments` it adds one target per experiment of the catalog
 * (catalog.js) and the specialists, ladder and data targets.
 */
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { readExperimentCatalog } = require('./catalog.js');
const { experimentTargets, projectTargets } = require('./targets.js');

/** The project that carries the experiment targets. */
const EXPERIMENTS_PACKAGE = '@keypoints/experiments';

/**
 * @param {string} file
 * @returns {string | undefined} the package name
 */
function packageName(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).name;
  } catch {
    return undefined;
  }
}

/** @type {import('nx/src/project-graph/plugins/public-api').CreateNodesFunction<unknown>} */
async function inferTargets(configFiles, _options, context) {
  return configFiles.map((file) => {
    const root = dirname(file).split('\\').join('/');
    const at = (/** @type {string} */ name) => join(context.workspaceRoot, root, name);
    const targets = projectTargets(root, { hasBuildConfig: existsSync(at('tsconfig.build.json')), hasTsconfig: existsSync(at('tsconfig.json')) });
    if (packageName(at('package.json')) === EXPERIMENTS_PACKAGE) {
      try {
        Object.assign(targets, experimentTargets(readExperimentCatalog(context.workspaceRoot)));
      } catch (err) {
        // A broken source must not stop every nx command (tests are how one finds the break).
        console.warn(`@keypoints/nx-plugin: no experiment targets: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return /** @type {const} */ ([file, { projects: { [root]: { targets } } }]);
  });
}

/** @type {import('nx/src/project-graph/plugins/public-api').CreateNodes<unknown>} */
const createNodes = ['{packages,plugins,tools}/*/package.json', inferTargets];

module.exports = { name: '@keypoints/nx-plugin', createNodes, createNodesV2: createNodes };
