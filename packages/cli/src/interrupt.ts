import { relative, isAbsolute } from 'node:path';
import { EXIT } from './exit.js';

/** The signals `keypoints train` turns into a clean stop. */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/** What {@link onInterrupt} returns. */
export interface Interrupt {
  /** Aborts on the first SIGINT / SIGTERM; its reason is `interrupted by SIGINT` (or SIGTERM). */
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  readonly received: InterruptSignal | undefined;
  /** The exit status for the signal received (130 for SIGINT, 143 for SIGTERM). */
  readonly exitCode: number;
  /** Remove the handlers (the default signal behaviour returns). */
  dispose(): void;
}

/**
 * Install SIGINT / SIGTERM handlers for a long command. The first signal calls `onFirst` (which
 * prints what happens next) and aborts {@link Interrupt.signal}; a second signal exits at once
 * with 130 (SIGINT) / 143 (SIGTERM), like the default behaviour.
 *
 * @param onFirst - called with the signal's name on the first signal; return false to exit at once
 * instead (e.g. before training started, when there is nothing to save).
 */
export function onInterrupt(onFirst: (signal: InterruptSignal) => boolean | void): Interrupt {
  const controller = new AbortController();
  let received: InterruptSignal | undefined;
  const handler = (sig: NodeJS.Signals) => {
    const s = sig as InterruptSignal;
    if (received !== undefined) process.exit(EXIT[s]);
    received = s;
    if (onFirst(s) === false) process.exit(EXIT[s]);
    controller.abort(`interrupted by ${s}`);
  };
  for (const s of INTERRUPT_SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received ? EXIT[received] : EXIT.ok;
    },
    dispose() {
      for (const s of INTERRUPT_SIGNALS) process.off(s, handler);
    },
  };
}

/**
 * The command that continues an interrupted run, e.g. `keypoints train --resume runs/net1`: the
 * run directory relative to the working directory when it lies below it (else absolute), shell-quoted
 * when needed, and the `--callback` modules again (they are not part of the saved config).
 */
export function resumeCommand(runDir: string, callbacks: readonly string[] = [], cwd = process.cwd()): string {
  const rel = relative(cwd, runDir);
  const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : runDir;
  return ['keypoints', 'train', '--resume', shown, ...callbacks.flatMap((c) => ['--callback', c])].map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
