/**
 * `@keypoints/callback-jsonl`: a training callback plugin that appends one JSON line per epoch and a
 * final `fitEnd` line to `<runDir>/epochs.jsonl`. Default export: the plugin factory for
 * `keypoints train --callback @keypoints/callback-jsonl`.
 */
export { JsonlCallback, EPOCHS_JSONL, createJsonlCallback } from './jsonl.callback.js';
export type { JsonlCallbackOptions, JsonlEpochLine, JsonlFitEndLine } from './jsonl.callback.js';
export { default } from './jsonl.callback.js';
