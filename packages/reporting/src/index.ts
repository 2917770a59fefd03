/** @deprecated import it from `@keypoints/core/node` (the one crash-safe write); re-exported here for existing callers. */
export { writeFileAtomic } from '@keypoints/core/node';
export { writeHistory, readHistory, historyToCsv, HISTORY_CSV_COLUMNS } from './history.writer.js';
export type { HistoryRow } from './history.writer.js';
export { learningCurveSvg } from './learning-curve.js';
export type { CurveSeries, LearningCurveOptions } from './learning-curve.js';
export type { ChartFrameOptions } from './vega-render.js';
export { writeMetrics } from './metrics.js';
export type { RunMetrics } from './metrics.js';
export { faceGridSvg, svgToPng } from './face-grid.js';
export type { GridFace, FaceGridOptions } from './face-grid.js';
export { summaryMarkdown } from './summary.js';
export { specialistCurvesSvg, rebin, weightedMeanCurve } from './specialist-curves.js';
export type { SpecialistCurve, SpecialistCurvesOptions } from './specialist-curves.js';
