export { learningCurveSvg } from './learning-curve.js';
export type { CurveSeries, LearningCurveOptions } from './learning-curve.js';
export type { ChartFrameOptions } from './vega-render.js';
export type { RunMetrics } from './metrics.js';
export { faceGridSvg, svgToPng } from './face-grid.js';
export type { GridFace, FaceGridOptions } from './face-grid.js';
export { summaryMarkdown } from './summary.js';
export { specialistCurvesSvg, rebin, weightedMeanCurve } from './specialist-curves.js';
export type { SpecialistCurve, SpecialistCurvesOptions } from './specialist-curves.js';
