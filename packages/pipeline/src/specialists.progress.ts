import cliProgress from 'cli-progress';
import type { SpecialistMessage, WorkerOutcome } from './specialists.js';

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

/**
 * Progress of several specialists at once (Nouri 2014, specialists): on a terminal one
 * `cli-progress` bar per specialist (epoch, train / valid RMSE px, best, status), all visible
 * together; otherwise (CI logs) one plain line per epoch per specialist, prefixed by its name.
 */
export class SpecialistsProgress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly width: number;
  private readonly failures: string[] = [];

  /** `header` is printed first, above the bars. */
  constructor(
    names: readonly string[],
    private readonly stream: NodeJS.WriteStream = process.stderr,
    header?: string,
  ) {
    this.width = Math.max(...names.map((n) => n.length));
    if (header) stream.write(header + '\n');
    if (stream.isTTY) {
      this.multi = new cliProgress.MultiBar(
        {
          // Most important first: a line wider than the terminal is cut at the right.
          format: `{name} |{bar}| {value}/{total} {status} | valid {valid} px, best {best} | train {train} px`,
          barsize: 20,
          stream,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      for (const name of names) {
        this.bars.set(name, this.multi.create(1, 0, { name: name.padEnd(this.width), train: '-', valid: '-', best: '-', status: 'queued' }));
      }
    }
  }

  /** The worker of `name` is being forked. */
  starting(name: string): void {
    const bar = this.bars.get(name);
    if (bar) bar.update({ status: 'starting' });
    else this.write(`${this.label(name)} starting`);
  }

  /** A message from a worker. */
  update(m: SpecialistMessage): void {
    const bar = this.bars.get(m.name);
    switch (m.type) {
      case 'start':
        if (bar) {
          bar.setTotal(m.epochs);
          bar.update(m.initialEpoch, { status: 'training' });
        } else {
          this.write(`${this.label(m.name)} training epochs ${m.initialEpoch + 1}..${m.epochs} on ${m.trainCount} faces (${m.validationCount} validation)`);
        }
        break;
      case 'epoch':
        if (bar) {
          bar.update(m.epoch, { train: fmt(m.trainRmsePx), valid: fmt(m.validRmsePx), best: fmt(m.bestValidRmsePx) });
        } else {
          this.write(
            `${this.label(m.name)} epoch ${String(m.epoch).padStart(String(m.epochs).length)}/${m.epochs}  ` +
              `train RMSE ${fmt(m.trainRmsePx)} px  valid RMSE ${fmt(m.validRmsePx)} px  (best ${fmt(m.bestValidRmsePx)} px)`,
          );
        }
        break;
      default:
        break;
    }
  }

  /** The worker of `o.name` exited. */
  ended(o: WorkerOutcome): void {
    const bar = this.bars.get(o.name);
    const what =
      o.status === 'failed'
        ? `FAILED: ${o.error ?? 'unknown error'} (log: ${o.log})`
        : `${o.status}${o.end?.stopReason ? ` (${o.end.stopReason})` : ''} after ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, best ${fmt(o.bestValidRmsePx)} px, ${o.seconds.toFixed(1)} s`;
    if (bar) {
      bar.update({ status: o.status === 'failed' ? 'FAILED (see below)' : o.status });
      if (o.status === 'failed') this.failures.push(`${this.label(o.name)} ${what}`);
    } else {
      this.write(`${this.label(o.name)} ${what}`);
    }
  }

  /** Stop the bars, then print the failures (their messages do not fit in a bar). */
  stop(): void {
    if (!this.multi) return;
    this.multi.stop();
    for (const line of this.failures) this.stream.write(line + '\n');
  }

  private label(name: string): string {
    return `[${name}]`.padEnd(this.width + 2);
  }

  private write(line: string): void {
    if (!this.multi) this.stream.write(line + '\n');
  }
}
