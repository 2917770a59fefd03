import { InvalidArgumentError } from 'commander';

/** A count flag of a runner: an integer > 0. @throws {InvalidArgumentError} (commander prints a one-line usage error). */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** A number flag of a runner (minutes, a share): finite and > 0. @throws {InvalidArgumentError} */
export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a number > 0, got '${v}'`);
  return n;
}
