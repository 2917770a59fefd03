import { InvalidArgumentError } from 'commander';

/** A count: an integer > 0. @throws {InvalidArgumentError} (commander prints it as a one-line usage error). */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** A time budget in minutes: a finite number > 0 (fractions allowed, e.g. 0.5). @throws {InvalidArgumentError} */
export function positiveMinutes(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of minutes > 0, e.g. 30 or 0.5, got '${v}'`);
  return n;
}
