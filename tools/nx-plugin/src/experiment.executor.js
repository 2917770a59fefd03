// @ts-check
'use strict';
/**
 * The `@keypoints/nx-plugin:experiment` executor: runs `options.script` from the workspace root as
 * `node --conditions=@keypoints/source --import tsx <script> <args…> <flags…>` (what
 * `tsx --conditions=@keypoints/source` does), the flags made from the other options (see
 * `runnerFlags`). Succeeds when the runner exits with 0.
 */
const { spawn } = require('node:child_process');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const { mergeOptions, runnerFlags } = require('./run-options.js');

/**
 * The node arguments that run `script` on the TypeScript sources.
 * @param {string} workspaceRoot
 * @param {Record<string, unknown>} options
 * @returns {string[]}
 */
function runnerArgv(workspaceRoot, options) {
  const o = mergeOptions(options);
  if (typeof o.script !== 'string') throw new Error(`experiment executor: option 'script' is required`);
  const tsx = pathToFileURL(require.resolve('tsx', { paths: [workspaceRoot] })).href;
  const args = Array.isArray(o.args) ? o.args.map(String) : [];
  return ['--conditions=@keypoints/source', '--import', tsx, o.script, ...args, ...runnerFlags(o)];
}

/**
 * @param {Record<string, unknown>} options
 * @param {import('nx/src/config/misc-interfaces').ExecutorContext} context
 * @returns {Promise<{ success: boolean }>}
 */
async function experimentExecutor(options, context) {
  const argv = runnerArgv(context.root, options);
  console.log(`> node ${argv.map((a) => (a.startsWith('file:') ? 'tsx' : a)).join(' ')}`);
  const child = spawn(process.execPath, argv, { cwd: resolve(context.root), stdio: 'inherit' });
  const forward = (/** @type {NodeJS.Signals} */ signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const code = await new Promise((done, fail) => {
      child.on('error', fail);
      child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0)));
    });
    return { success: code === 0 };
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

module.exports = experimentExecutor;
module.exports.default = experimentExecutor;
module.exports.runnerArgv = runnerArgv;
