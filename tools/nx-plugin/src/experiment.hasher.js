// @ts-check
'use strict';
/**
 * The hasher of the `experiment` executor. nx's own hash of a task covers its declared inputs (the
 * sources) and its command-line overrides, but not files git ignores (`runs/`) nor the file a
 * `--data` override names. This adds, at run time (after the tasks it depends on ran), the content
 * hash of every `fileInputsOf` entry: the data file (override or default), the pre-trained run
 * (config.json, model/, its data file) and the `runInputs`. Change a byte of any of them and the
 * task runs again instead of replaying a stale result.
 */
const { createHash } = require('node:crypto');
const { hashFileInputs, taskOptions } = require('./run-options.js');

/**
 * @param {import('nx/src/config/task-graph').Task} task
 * @param {import('nx/src/config/misc-interfaces').HasherContext & { env?: NodeJS.ProcessEnv }} context
 * @returns {Promise<import('nx/src/hasher/task-hasher').Hash>}
 */
async function experimentHasher(task, context) {
  const base = await context.hasher.hashTask(task, context.taskGraph, context.env ?? process.env);
  const workspaceRoot = require('nx/src/devkit-exports').workspaceRoot;
  const files = await hashFileInputs(taskOptions(task, context.projectsConfigurations.projects), workspaceRoot);
  if (process.env.KEYPOINTS_NX_HASH_DEBUG) {
    console.error(`[keypoints hasher] ${task.id}: nx ${base.value}, files ${files.value}`, JSON.stringify({ ...files.files, nodes: base.details.nodes, runtime: base.details.runtime, command: base.details.command }, null, 1));
  }
  return {
    ...base,
    value: createHash('sha256').update(`${base.value}\0${files.value}`).digest('hex'),
    details: { ...base.details, implicitDeps: { ...base.details.implicitDeps, ...files.files } },
  };
}

module.exports = experimentHasher;
module.exports.default = experimentHasher;
