import { Option, type Command } from 'commander';

/**
 * Add `keypoints submit` to a commander program: predict Kaggle's test images with a run or a
 * specialists folder and write `RowId,Location` for the rows of `IdLookupTable.csv` (see
 * `writeSubmission`).
 *
 * @param backends the names `--backend` accepts: the CLI's registered backend plugins
 *   (`BackendRegistry.names()`), e.g. `['node-gpu', 'node', 'wasm', 'cpu']`.
 * @returns `program`, for chaining.
 */
export function addSubmitCommand(program: Command, backends: readonly string[]): Command {
  program
    .command('submit')
    .description('write a Kaggle submission (RowId,Location, pixels clipped to [0, 96]) for exactly the rows of IdLookupTable.csv')
    .requiredOption('--model <dir>', 'run directory (runs/net6) or specialists folder (specialists.json)')
    .requiredOption('--test <file>', "Kaggle test.csv (ImageId,Image; .csv, .csv.gz or test.zip)")
    .requiredOption('--lookup <file>', "Kaggle IdLookupTable.csv (RowId,ImageId,FeatureName,Location)")
    .option('--out <file>', 'submission file', 'submission.csv')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(backends))
    .action(async (o: { model: string; test: string; lookup: string; out: string; backend?: string }) => {
      const { writeSubmission } = await import('@keypoints/inference');
      const r = await writeSubmission(o);
      console.log(
        `${r.file}: ${r.rows} rows for ${r.images} images (${r.kind === 'specialists' ? 'specialists ensemble' : 'model'} ${o.model}` +
          `${r.clipped > 0 ? `; ${r.clipped} values clipped to [0, 96]` : ''}), ${r.seconds} s`,
      );
    });
  return program;
}
