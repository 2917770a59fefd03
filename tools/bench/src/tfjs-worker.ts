/**
 * Child process of `bench:train`: one tfjs backend and thread count per process (tfjs fixes both
 * for the process). Reads the options as JSON from argv[2]; prints progress on stderr and the
 * result as the last stdout line, prefixed with RESULT_PREFIX.
 */
import { RESULT_PREFIX, benchTfjs, type TfjsBenchOptions } from './tfjs-train.bench.js';

const options = JSON.parse(process.argv[2] ?? '{}') as TfjsBenchOptions;
try {
  const result = await benchTfjs(options, (line) => process.stderr.write(`  ${line}\n`));
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (error) {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ error: (error as Error).message })}\n`);
  process.exit(0);
}
