// Process entry: runs the CLI and turns its outcome into an exit code. User errors are one
// line on stderr; unexpected errors are bugs and keep their stack trace.

import { UserError } from '../common/errors.js';
import { main } from './main.js';

export function run(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UserError) {
        process.stderr.write(`meshtv: error: ${err.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`meshtv: internal error (please report): ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(70);
    },
  );
}
