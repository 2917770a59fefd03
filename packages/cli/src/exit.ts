import { CommanderError } from 'commander';
import { isKeypointsError } from '@keypoints/core';

/**
 * The exit statuses of `keypoints`:
 *
 * | status | when |
 * |---|---|
 * | 0 | success (also `--help`, `--version`) |
 * | 1 | an error: bad data or config file, missing run, backend failure, a failed specialist, or an unexpected failure |
 * | 2 | usage: unknown command or option, missing argument, bad option value or choice |
 * | 130 | interrupted by Ctrl-C (SIGINT): the run stopped at an epoch end, its files are written, `--resume` continues |
 * | 143 | the same for SIGTERM |
 */
export const EXIT = { ok: 0, error: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;

/** The environment variable that makes `keypoints` print stacks of errors (`KEYPOINTS_DEBUG=1`). */
export const DEBUG_ENV = 'KEYPOINTS_DEBUG';

/** Commander's codes for which its exit status stands (help and version print, then 0). */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Report a failure of the command on stderr and return the exit status (see {@link EXIT}):
 * commander's usage errors (already printed by commander) give 2; a `KeypointsError` prints
 * `keypoints: <message>` and gives 1; anything else prints one line,
 * `keypoints: <first line of its message> (run with KEYPOINTS_DEBUG=1 for the stack)`, and gives 1.
 * With `KEYPOINTS_DEBUG=1` the stack (and causes) follow.
 *
 * @param err - what the command threw.
 * @param write - where lines go (default stderr).
 */
export function reportFailure(err: unknown, write: (line: string) => void = (l) => console.error(l)): number {
  if (err instanceof CommanderError || (err as { code?: unknown })?.code?.toString().startsWith('commander.')) {
    const e = err as CommanderError;
    return COMMANDER_SUCCESS.has(e.code) ? e.exitCode : EXIT.usage;
  }
  const debug = process.env[DEBUG_ENV] !== undefined && process.env[DEBUG_ENV] !== '' && process.env[DEBUG_ENV] !== '0';
  if (isKeypointsError(err)) {
    write(`keypoints: ${err.message}`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    const first = message.split('\n').find((l) => l.trim() !== '')?.trim() ?? (err instanceof Error ? err.name : 'unknown error');
    write(`keypoints: ${first}${debug ? '' : ` (run with ${DEBUG_ENV}=1 for the stack)`}`);
  }
  if (debug) write(stackOf(err));
  return EXIT.error;
}

function stackOf(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown })?.cause, depth++) {
    lines.push(`${depth > 0 ? 'caused by: ' : ''}${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  return lines.join('\n');
}
