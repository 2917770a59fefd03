/**
 * A stand-in for `specialist.worker.ts` in tests of the worker pool: speaks the same IPC protocol
 * without training. Each run appends `{ event: 'start' | 'end', name, t, input }` JSON lines to
 * `$STUB_LOG`; groups named in `$STUB_CRASH` (comma-separated) exit with code 3 after one epoch,
 * without an `end` or `error` message (a crash); a `cancel` message ends it as `cancelled`.
 */
import { appendFileSync } from 'node:fs';
import type { SpecialistJob, SpecialistMessage } from './specialists.js';

const job = JSON.parse(process.argv[2]) as SpecialistJob;
const delay = Number(process.env.STUB_DELAY_MS ?? 300);
const log = (event: string) => {
  if (process.env.STUB_LOG) appendFileSync(process.env.STUB_LOG, JSON.stringify({ event, name: job.name, t: Date.now(), input: job.input }) + '\n');
};
const send = (m: SpecialistMessage) => new Promise<void>((done) => process.send!(m, undefined, {}, () => done()));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

process.on('message', async (m: { type?: string }) => {
  if (m?.type !== 'cancel') return;
  log('end');
  await send({ type: 'end', name: job.name, status: 'cancelled', stopReason: 'cancelled by train-specialists', epochs: 0, bestValidRmsePx: NaN, trainSeconds: 0.1, runDir: String(job.input.out) });
  process.exit(0);
});

log('start');
await send({ type: 'start', name: job.name, epochs: 2, initialEpoch: 0, trainCount: 10, validationCount: 2 });
await sleep(delay);
await send({ type: 'epoch', name: job.name, epoch: 1, epochs: 2, trainRmsePx: 3, validRmsePx: 4, bestValidRmsePx: 4 });
if ((process.env.STUB_CRASH ?? '').split(',').includes(job.name)) {
  console.error(`stub: ${job.name} crashes`);
  log('end');
  process.exit(3);
}
await sleep(delay);
await send({ type: 'epoch', name: job.name, epoch: 2, epochs: 2, trainRmsePx: 2, validRmsePx: 3, bestValidRmsePx: 3 });
log('end');
await send({ type: 'end', name: job.name, status: 'completed', epochs: 2, bestValidRmsePx: 3, trainSeconds: 0.6, runDir: String(job.input.out) });
process.exit(0);
