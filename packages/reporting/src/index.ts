export { writeFileAtomic } from './atomic-write.js';
export { writeHistory, historyToCsv, HISTORY_CSV_COLUMNS } from './history.writer.js';
export type { HistoryRow } from './history.writer.js';
export { learningCurveSvg } from './learning-curve.js';
export type { CurveSeries, LearningCurveOptions } from './learning-curve.js';
export { writeMetrics } from './metrics.js';
export type { RunMetrics } from './metrics.js';
