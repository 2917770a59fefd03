/**
 * `@keypoints/inference`: use trained models — a predictor for a run or a specialists ensemble,
 * evaluation (RMSE in pixels, per keypoint), Kaggle submissions, run plots and summaries.
 */
export { loadPredictor, DEFAULT_PREDICT_BATCH } from './predictor.js';
export type { KeypointPredictor, PredictorMember, LoadPredictorOptions } from './predictor.js';
export { evaluateRun } from './evaluate.js';
export type { EvaluationResult } from './evaluate.js';
export { writeSubmission, readLookupTable, SUBMISSION_HEADER } from './submit.js';
export type { SubmitOptions, SubmitResult, LookupRow } from './submit.js';
export { plotRuns, writeSummary, readSpecialistCurves } from './plot.js';
export type { PlotResult } from './plot.js';
