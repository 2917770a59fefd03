/**
 * `@keypoints/core/node`: the Node-only part of core (it imports `node:fs`), kept out of the
 * browser-safe main entry. Crash-safe file and folder writes; the run history file format.
 */
export { writeFileAtomic, replaceDirAtomic, findInterruptedSwap } from './atomic-write.js';
export type { AtomicFileData, WriteFileAtomicOptions } from './atomic-write.js';
export { writeHistory, readHistory, historyToCsv, HISTORY_CSV_COLUMNS } from './history-file.js';
export type { HistoryRow } from './epoch-logs.js';
