/** `@keypoints/cli`: the `keypoints` command (argument parsing, progress display, exit codes). */
export { buildProgram, main } from './main.js';
export { addSubmitCommand } from './commands/submit.command.js';
export { addTrainSpecialistsCommand } from './commands/train-specialists.command.js';
