// The admin commands, run in whichever process holds the database: the CLI itself,
// or the running suite through its loopback admin endpoint.
import fs from 'node:fs';
import { createKey, createUser, listUsers, parseScopes, revokeKey } from '../auth/keys.js';
import type { Deps } from '../deps.js';
import { describeImport, importBarsFile, type ImportFormat } from '../market/import-bars.js';
import { importActionsFile } from '../market/import-actions.js';
import { ACTIONS_CSV_FORMAT_DOC, CSV_FORMAT_DOC } from '../market/importers.js';

export type AdminCommand = (deps: Deps, args: string[]) => Promise<string[]>;

const commands: Record<string, AdminCommand> = {
  async 'create-user'(deps, args) {
    const { positional, flags } = parseArgs(args);
    const name = positional[0];
    if (!name) throw new Error('Usage: create-user NAME [--scopes read,trade,...]');
    // least privilege: a new user reads until given more (CONTRACT §0: default read)
    const scopes = parseScopes(flags.scopes ?? 'read');
    const { key, prefix } = await createUser(deps.sql, name, scopes);
    return [`Created user ${name} with key ${prefix} (scopes: ${scopes.join(', ')}). The key is shown once:`, key];
  },
  async 'create-key'(deps, args) {
    const { positional, flags } = parseArgs(args);
    const name = positional[0];
    if (!name) throw new Error('Usage: create-key USER [--scopes read,trade,...]');
    const scopes = parseScopes(flags.scopes ?? 'read');
    const { key, prefix } = await createKey(deps.sql, name, scopes);
    return [`Created key ${prefix} for ${name}. The key is shown once:`, key];
  },
  async 'revoke-key'(deps, args) {
    const prefix = args[0];
    if (!prefix) throw new Error('Usage: revoke-key PREFIX');
    if (!(await revokeKey(deps.sql, prefix))) throw new Error(`No active key has the prefix '${prefix}'.`);
    return [`Revoked key ${prefix}.`];
  },
  async 'import-bars'(deps, args) {
    const { positional, flags } = parseArgs(args);
    const file = positional[0];
    if (!file) throw new Error(`Usage: import-bars FILE [--format ai-trader|csv]\n${CSV_FORMAT_DOC}`);
    const format = flags.format;
    if (format !== undefined && format !== 'ai-trader' && format !== 'csv') throw new Error(`--format must be ai-trader or csv, not '${format}'.`);
    return describeImport(await importBarsFile(deps.sql, deps.market, file, format as ImportFormat | undefined));
  },
  async 'import-actions'(deps, args) {
    const file = parseArgs(args).positional[0];
    if (!file) throw new Error(`Usage: import-actions FILE\n${ACTIONS_CSV_FORMAT_DOC}`);
    return importActionsFile(deps.sql, deps.market, file);
  },
  async backup(deps, args) {
    const file = parseArgs(args).positional[0];
    if (!file) throw new Error('Usage: backup FILE');
    if (!deps.db.dumpEmbedded) {
      throw new Error(
        `With DATABASE_URL the database is a Postgres server: back it up with pg_dump --format=custom --file ${file} "$DATABASE_URL", and restore into an empty database with pg_restore --dbname "$DATABASE_URL" ${file}.`,
      );
    }
    if (fs.existsSync(file)) throw new Error(`${file} already exists; give a new file name (a backup never overwrites a file).`);
    const t0 = performance.now();
    const { tarball, described: orders } = await deps.db.dumpEmbedded(async (q) => (await q<{ n: number }[]>`select count(*)::int as n from orders`)[0]!.n);
    fs.writeFileSync(file, tarball, { flag: 'wx', mode: 0o600 });
    return [
      `Backed up ${deps.db.where} to ${file}: ${(tarball.byteLength / 1048576).toFixed(1)} MB, ${orders} orders, in ${Math.round(performance.now() - t0)} ms.`,
      'Restore it into an empty directory with: AIBT_DATA_DIR=<new dir> aibt admin restore FILE',
    ];
  },
  async 'list-users'(deps) {
    const users = await listUsers(deps.sql);
    if (users.length === 0) return ['No users.'];
    return users.flatMap((u) => [
      u.name,
      ...u.keys.map((k) => `  ${k.prefix}  ${k.scopes.join(',')}${k.revoked ? '  (revoked)' : ''}`),
    ]);
  },
};

/** Later issues add commands (import-bars) here. */
export function registerAdminCommand(name: string, command: AdminCommand): void {
  commands[name] = command;
}

export function adminUsage(): string {
  return `Commands: ${Object.keys(commands).join(', ')}.`;
}

export async function runAdminCommand(deps: Deps, argv: string[]): Promise<string[]> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) throw new Error(name ? `Unknown command '${name}'. ${adminUsage()}` : adminUsage());
  return command(deps, args);
}

export function parseArgs(args: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2);
      const value = inline ?? args[i + 1];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new Error(`--${k} needs a value.`);
      flags[k!] = value;
      if (inline === undefined) i++;
    } else positional.push(a);
  }
  return { positional, flags };
}
