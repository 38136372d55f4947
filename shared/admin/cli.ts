// npm run admin -- <command> ...
import { adminMain } from './main.js';

adminMain(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
