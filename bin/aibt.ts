#!/usr/bin/env node
// aibt start | aibt stdio [--servers trade,price,...] [--toolsets trading,...] | aibt admin <command> ...
import { adminMain } from '../shared/admin/main.js';
import { SERVER_NAMES } from '../shared/config.js';
import { parseToolsets } from '../shared/mcp/toolsets.js';
import { runUntilSignal } from '../shared/runtime.js';
import { runStdio } from '../shared/stdio.js';
import { ALL_SERVERS } from '../servers/catalog.js';

const USAGE = `Usage:
  aibt start                                   all five servers over streamable HTTP (ports 3101-3105)
  aibt stdio [--servers trade,price,rules,runs,analyst] [--toolsets trading,market,rules,runs,analysis,admin]
                                               the chosen servers' tools (of the chosen toolsets) over stdio, one process
  aibt admin <command> ...                     create-user, create-key, revoke-key, list-users, import-bars, backup FILE, restore FILE`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'start') return runUntilSignal(ALL_SERVERS);
  if (command === 'admin') return adminMain(rest);
  if (command === 'stdio') {
    let names: string[] = [...SERVER_NAMES];
    const i = rest.findIndex((a) => a === '--servers' || a.startsWith('--servers='));
    if (i >= 0) names = (rest[i]!.includes('=') ? rest[i]!.split('=')[1]! : (rest[i + 1] ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(SERVER_NAMES as readonly string[]).includes(n));
    if (unknown.length || !names.length) throw new Error(`--servers takes a comma-separated list of ${SERVER_NAMES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`);
    const t = rest.findIndex((a) => a === '--toolsets' || a.startsWith('--toolsets='));
    if (t >= 0) {
      const value = rest[t]!.includes('=') ? rest[t]!.split('=')[1]! : (rest[t + 1] ?? '');
      parseToolsets(value); // one sentence for an unknown set
      process.env.AIBT_TOOLSETS = value;
    }
    return runStdio(ALL_SERVERS.filter((s) => names.includes(s.name)));
  }
  process.stderr.write(`${USAGE}\n`);
  process.exit(command && command !== 'help' && command !== '--help' ? 1 : 0);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
