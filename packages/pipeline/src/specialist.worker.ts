/**
 * One specialist's training process (Nouri 2014, specialists), forked by `trainSpecialists`:
 *
 *   node --import tsx packages/cli/src/specialist.worker.ts '<SpecialistJob as JSON>'
 *
 * Calls `trainRun(job.input)` (its own backend in this process) and reports over IPC
 * (`process.send`) compact {@link SpecialistMessage}s: `start`, one `epoch` per epoch, then `end`
 * or `error`. Without an IPC channel (run by hand) the messages are printed as JSON lines.
 * A `{ type: 'cancel' }` message, SIGINT, SIGTERM or the parent going away cancels the fit after
 * the epoch in progress; the run directory is still written. Exit code 0 on success, 1 on failure.
 */
import { isKeypointsError } from '@keypoints/core';
import type { TrainingEvent } from '@keypoints/training';
import type { SpecialistJob, SpecialistMessage } from './specialists.js';

function send(message: SpecialistMessage): Promise<void> {
  if (!process.send) {
    process.stdout.write(JSON.stringify(message) + '\n');
    return Promise.resolve();
  }
  if (!process.connected) return Promise.resolve();
  return new Promise((done) => process.send!(message, undefined, {}, () => done()));
}

async function runJob(job: SpecialistJob): Promise<number> {
  const controller = new AbortController();
  // The reason becomes the run's stopReason (metrics.json, the manifest).
  const cancel = (reason: string) => () => controller.abort(reason);
  process.on('message', (m: { type?: string }) => m?.type === 'cancel' && cancel('cancelled by train-specialists')());
  process.once('disconnect', cancel('parent process gone'));
  process.once('SIGINT', cancel('SIGINT'));
  process.once('SIGTERM', cancel('SIGTERM'));
  let best = Infinity;
  let epochs = 0;
  const onEvent = (e: TrainingEvent) => {
    if (e.type === 'fitStart') {
      epochs = e.epochs;
      void send({ type: 'start', name: job.name, epochs: e.epochs, initialEpoch: e.initialEpoch, trainCount: e.trainCount, validationCount: e.validationCount });
    } else if (e.type === 'epochEnd') {
      best = Math.min(best, e.logs.validRmsePx);
      void send({
        type: 'epoch',
        name: job.name,
        epoch: e.epoch + 1,
        epochs,
        trainRmsePx: e.logs.trainRmsePx,
        validRmsePx: e.logs.validRmsePx,
        bestValidRmsePx: best,
      });
    }
  };
  try {
    const { trainRun } = await import('./train.js');
    const { runDir, metrics, end } = await trainRun(job.input, { progress: false, onEvent, signal: controller.signal });
    await send({
      type: 'end',
      name: job.name,
      status: end?.status ?? metrics.status,
      ...(end?.stopReason ? { stopReason: end.stopReason } : {}),
      epochs: metrics.epochs,
      bestValidRmsePx: metrics.bestValidRmsePx,
      trainSeconds: metrics.trainSeconds,
      runDir,
    });
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(err instanceof Error ? (err.stack ?? message) : message);
    await send({ type: 'error', name: job.name, message, ...(isKeypointsError(err) ? { code: err.code } : {}) });
    return 1;
  }
}

let job: SpecialistJob;
try {
  job = JSON.parse(process.argv[2] ?? '') as SpecialistJob;
} catch {
  console.error("specialist.worker: expected one argument, the job as JSON: '{\"name\":\"eye_center\",\"input\":{…}}'");
  process.exit(2);
}
// Exit explicitly: the wasm backend's worker threads would keep the process alive.
process.exit(await runJob(job));
