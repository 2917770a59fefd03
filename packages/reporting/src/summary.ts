import type { RunMetrics } from './metrics.js';

/**
 * A Markdown results table of several runs (`runs/summary.md`): model, descriptive name, epochs,
 * best and final validation RMSE (px), mean-shape baseline (px), train time, backend. Rows in the
 * order given.
 */
export function summaryMarkdown(runs: readonly RunMetrics[], title = 'Results'): string {
  const lines = [
    `# ${title}`,
    '',
    '| run | model | epochs | best valid RMSE (px) | at epoch | final valid RMSE (px) | mean-shape baseline (px) | train time | backend | status |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of runs) {
    lines.push(
      `| ${r.model} | ${r.modelName ?? ''} | ${r.epochs} | ${r.bestValidRmsePx.toFixed(3)} | ${r.bestEpoch} | ${r.finalValidRmsePx.toFixed(3)} | ${r.baselineValidRmsePx.toFixed(3)} | ${formatDuration(r.trainSeconds)} | ${r.backend} | ${r.status}${r.stopReason ? ` (${r.stopReason})` : ''} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}
