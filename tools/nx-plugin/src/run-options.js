// @ts-check
'use strict';
/**
 * What the `experiment` executor and its hasher share: the options of a task (target options,
 * configuration, command-line overrides), the flags they become, and the files whose contents
 * decide whether a cached result may be replayed.
 */
const { createHash } = require('node:crypto');
const { createReadStream, existsSync, readFileSync } = require('node:fs');
const { readdir, stat } = require('node:fs/promises');
const { isAbsolute, join, relative, resolve } = require('node:path');

/** Options of the executor itself, never passed on to the runner. */
const EXECUTOR_OPTIONS = new Set(['script', 'args', 'defaultData', 'runInputs']);

/**
 * @param {string} key
 * @returns {string} `batch-size` → `batchSize`
 */
function camelCase(key) {
  return key.replace(/-+([a-zA-Z0-9])/g, (_, c) => c.toUpperCase());
}

/**
 * @param {string} key
 * @returns {string} `batchSize` → `batch-size`
 */
function kebabCase(key) {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Options with camelCase keys, nx's bookkeeping (`_`, `__overrides_unparsed__`, …) dropped; a
 * later source wins.
 * @param {...(Record<string, unknown> | undefined)} sources
 * @returns {Record<string, unknown>}
 */
function mergeOptions(...sources) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source ?? {})) {
      if (key === '_' || key.startsWith('__') || value === undefined) continue;
      out[camelCase(key)] = value;
    }
  }
  return out;
}

/**
 * The options a task runs with: its target's options, then the configuration's, then the
 * command-line overrides (`nx run experiments:net1 --data=FILE --epochs=2`).
 * @param {import('nx/src/config/task-graph').Task} task
 * @param {Record<string, import('nx/src/config/workspace-json-project-json').ProjectConfiguration>} projects
 * @returns {Record<string, unknown>}
 */
function taskOptions(task, projects) {
  const target = projects[task.target.project]?.targets?.[task.target.target];
  const configuration = task.target.configuration ?? target?.defaultConfiguration;
  return mergeOptions(target?.options, configuration ? target?.configurations?.[configuration] : undefined, task.overrides);
}

/**
 * The runner's flags: camelCase → `--kebab-case`; `true` → `--flag`, `false` → `--no-flag`; arrays
 * comma-joined; the executor's own options left out.
 * @param {Record<string, unknown>} options
 * @returns {string[]}
 */
function runnerFlags(options) {
  /** @type {string[]} */
  const flags = [];
  for (const [key, value] of Object.entries(mergeOptions(options))) {
    if (EXECUTOR_OPTIONS.has(key) || value === null) continue;
    const flag = kebabCase(key);
    if (value === true) flags.push(`--${flag}`);
    else if (value === false) flags.push(`--no-${flag}`);
    else if (Array.isArray(value)) flags.push(`--${flag}`, value.join(','));
    else flags.push(`--${flag}`, String(value));
  }
  return flags;
}

/**
 * `{options.out}/eye_center` with `out: 'runs/specialists'` → `runs/specialists/eye_center`.
 * @param {string} template
 * @param {Record<string, unknown>} options
 * @returns {string}
 * @throws {Error} naming the option when it is not set
 */
function interpolate(template, options) {
  return template.replace(/\{options\.([A-Za-z0-9_-]+)\}/g, (_, name) => {
    const value = options[camelCase(name)];
    if (value === undefined || value === null) throw new Error(`'${template}': option '${name}' is not set`);
    return String(value);
  });
}

/**
 * The files and folders whose contents are part of a task's cache key, labelled:
 * - `data`: `options.data`, or `options.defaultData` when the runner falls back to it;
 * - `pretrained`: `<pretrained>/config.json`, `<pretrained>/model/` and the data file named by that
 *   config (what the specialists train on);
 * - `runInputs`: each entry, `{options.<name>}` interpolated.
 * Paths are relative to `workspaceRoot` unless absolute.
 * @param {Record<string, unknown>} options
 * @param {string} workspaceRoot
 * @returns {{ label: string, path: string }[]}
 */
function fileInputsOf(options, workspaceRoot) {
  /** @type {{ label: string, path: string }[]} */
  const inputs = [];
  const at = (/** @type {string} */ p) => resolve(workspaceRoot, p);
  const data = options.data ?? options.defaultData;
  if (typeof data === 'string') inputs.push({ label: 'data', path: at(data) });
  if (typeof options.pretrained === 'string') {
    const dir = at(options.pretrained);
    inputs.push({ label: 'pretrained/config.json', path: join(dir, 'config.json') });
    inputs.push({ label: 'pretrained/model', path: join(dir, 'model') });
    const config = readJson(join(dir, 'config.json'));
    if (config && typeof config.data === 'string') inputs.push({ label: 'pretrained/data', path: resolve(dir, config.data) });
  }
  const runInputs = Array.isArray(options.runInputs) ? options.runInputs : [];
  for (const template of runInputs) inputs.push({ label: `runInputs/${template}`, path: at(interpolate(String(template), options)) });
  return inputs;
}

/**
 * @param {string} file
 * @returns {Record<string, unknown> | undefined} undefined when absent or not JSON
 */
function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * @param {string} file
 * @returns {Promise<string>} sha256 of the bytes, hex
 */
function hashFile(file) {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', fail)
      .on('end', () => done(hash.digest('hex')));
  });
}

/**
 * Content hash of a file, or of a folder (every file below it: relative path and bytes, in sorted
 * order; symbolic links by their target's contents). `missing` when nothing is there, so that a
 * later appearance changes the hash.
 * @param {string} path absolute
 * @returns {Promise<string>}
 */
async function hashPath(path) {
  if (!existsSync(path)) return 'missing';
  if (!(await stat(path)).isDirectory()) return hashFile(path);
  const hash = createHash('sha256');
  for (const file of await filesUnder(path)) {
    hash.update(`${relative(path, file).split('\\').join('/')}\0${await hashFile(file)}\0`);
  }
  return hash.digest('hex');
}

/**
 * @param {string} dir
 * @returns {Promise<string[]>} every file below `dir`, sorted
 */
async function filesUnder(dir) {
  /** @type {string[]} */
  const files = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(p).then((s) => s.isDirectory(), () => false)));
    if (isDir) files.push(...(await filesUnder(p)));
    else if (entry.isFile() || entry.isSymbolicLink()) files.push(p);
  }
  return files;
}

/**
 * The label → content hash of every {@link fileInputsOf} entry, and one hash of them all.
 * @param {Record<string, unknown>} options
 * @param {string} workspaceRoot
 * @returns {Promise<{ value: string, files: Record<string, string> }>}
 */
async function hashFileInputs(options, workspaceRoot) {
  /** @type {Record<string, string>} */
  const files = {};
  const hash = createHash('sha256');
  for (const { label, path } of fileInputsOf(options, workspaceRoot)) {
    const h = await hashPath(path);
    const shown = isAbsolute(path) && !relative(workspaceRoot, path).startsWith('..') ? relative(workspaceRoot, path) : path;
    files[`${label}:${shown}`] = h;
    hash.update(`${label}\0${shown}\0${h}\0`);
  }
  return { value: hash.digest('hex'), files };
}

module.exports = { camelCase, kebabCase, mergeOptions, taskOptions, runnerFlags, interpolate, fileInputsOf, hashPath, hashFileInputs, EXECUTOR_OPTIONS };
