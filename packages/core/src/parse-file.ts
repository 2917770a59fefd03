import { DataFormatError } from './errors.js';

/**
 * Parse the text of a user's JSON file (`config.json`, `metrics.json`, a checkpoint's `state.json`, …).
 * A syntax error becomes a one-line {@link DataFormatError} naming the file, the 1-based line and
 * column of the fault (from the parser's `position`, where it gives one) and what was expected.
 *
 * @param text - the file's content (UTF-8 decoded).
 * @param file - the file's path, for the message.
 * @param expected - what the file should hold, e.g. `"a run's config.json (an object of settings)"`.
 * @returns the parsed value (not validated).
 * @throws {DataFormatError} when `text` is not JSON.
 * @example
 * ```ts
 * const raw = parseJsonText(await readFile(file, 'utf8'), file, 'a run config object');
 * ```
 */
export function parseJsonText(text: string, file: string, expected: string, reviver?: (key: string, value: unknown) => unknown): unknown {
  try {
    return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
  } catch (cause) {
    const message = (cause as Error).message ?? String(cause);
    const at = /position (\d+)/.exec(message);
    const position = at ? Number(at[1]) : text.trim() === '' ? 0 : undefined;
    const before = position === undefined ? undefined : text.slice(0, position).split('\n');
    const line = before?.length;
    const column = before ? before[before.length - 1].length + 1 : undefined;
    const what = text.trim() === '' ? 'the file is empty' : `not valid JSON (${message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '')}${column !== undefined ? `, column ${column}` : ''})`;
    throw new DataFormatError({ file, ...(line !== undefined ? { line } : {}) }, `${what}; expected ${expected}`, { cause });
  }
}

/** One problem of a schema check, as zod (and similar validators) report it. */
export interface SchemaIssue {
  /** Where in the document: keys and array indices. */
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/**
 * One line out of a validator's issue list: `field 'epochs': Expected number, received string; …`
 * (at most `max` issues, then `and N more`). Array indices print as `dense[1]`.
 *
 * @example
 * ```ts
 * const r = Schema.safeParse(raw);
 * if (!r.success) throw new ConfigError(`${file}: ${formatSchemaIssues(r.error.issues)}`);
 * ```
 */
export function formatSchemaIssues(issues: readonly SchemaIssue[], max = 3): string {
  const one = (i: SchemaIssue): string => {
    const path = i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('');
    return path === '' ? i.message : `field '${path}': ${i.message}`;
  };
  const shown = issues.slice(0, max).map(one).join('; ');
  return issues.length > max ? `${shown}; and ${issues.length - max} more` : shown;
}
