import cliProgress from 'cli-progress';
import type { CallbackContext, TrainingCallback } from '@keypoints/training';

/**
 * Shows training progress: a progress bar (epoch, train loss, validation RMSE in pixels, ETA)
 * on a terminal; one line every `every` epochs otherwise (CI logs).
 */
export class ProgressCallback implements TrainingCallback {
  readonly name = 'progress';
  readonly order = 950;
  private bar?: cliProgress.SingleBar;
  private best = Infinity;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly every = 10,
  ) {}

  onFitStart(ctx: CallbackContext): void {
    if (this.stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${this.label} |{bar}| epoch {value}/{total} | train loss {trainLoss} | valid RMSE {validRmse} px (best {best}) | ETA {eta_formatted}`,
          stream: this.stream,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(ctx.epochs, ctx.epoch, { trainLoss: '-', validRmse: '-', best: '-' });
    } else {
      this.stream.write(`${this.label}: training epochs ${ctx.epoch + 1}..${ctx.epochs}\n`);
    }
  }

  onEpochEnd(ctx: CallbackContext): void {
    const logs = ctx.logs!;
    this.best = Math.min(this.best, logs.validRmsePx);
    const payload = {
      trainLoss: logs.trainLoss.toFixed(6),
      validRmse: logs.validRmsePx.toFixed(3),
      best: this.best.toFixed(3),
    };
    if (this.bar) {
      this.bar.update(ctx.epoch + 1, payload);
    } else if ((ctx.epoch + 1) % this.every === 0 || ctx.epoch === 0 || ctx.epoch + 1 === ctx.epochs) {
      this.stream.write(
        `  epoch ${String(ctx.epoch + 1).padStart(4)}/${ctx.epochs}  train loss ${payload.trainLoss}  ` +
          `train RMSE ${logs.trainRmsePx.toFixed(3)} px  valid RMSE ${payload.validRmse} px  (${Math.round(logs.durationMs)} ms)\n`,
      );
    }
  }

  onFitEnd(): void {
    this.bar?.stop();
  }
}
