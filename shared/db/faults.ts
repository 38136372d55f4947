// Storage faults in words (issue 20 item 3): a full disk, a read-only filesystem and damaged
// files are told apart from bugs. A call that meets one answers one sentence; the process
// logs one line per fault episode (not a stack per call) and /health answers 503 with the
// cause until a probe finds the storage writable again, when service resumes by itself.
// One episode record per process: a process serves one database.
import fs from 'node:fs';
import { errorFields, logEvent } from '../log.js';
import type { Sql } from './database.js';

export type StorageFault = 'disk_full' | 'read_only' | 'damaged';

const SENTENCES: Record<StorageFault, string> = {
  disk_full: "The database's disk is full; nothing was changed. Free space on it: the server resumes by itself.",
  read_only: "The database's files are on a read-only filesystem; nothing was changed. Make it writable: the server resumes by itself.",
  damaged: "The database's files are damaged; nothing was changed. Restore from a backup (aibt admin restore FILE) or ask the operator.",
};

const CAUSES: Record<StorageFault, string> = {
  disk_full: "the database's disk is full",
  read_only: "the database's files are on a read-only filesystem",
  damaged: "the database's files are damaged",
};

/**
 * The storage fault an error means, or null: SQLSTATE 53100 (disk_full) or ENOSPC; EROFS or
 * 25006 (read_only_sql_transaction); XX001/XX002 (data or index corrupted) and unreadable
 * blocks or files.
 */
export function classifyStorageFault(err: unknown): StorageFault | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === '53100' || code === 'ENOSPC' || /No space left on device/i.test(message)) return 'disk_full';
  if (code === 'EROFS' || code === '25006' || /Read-only file system/i.test(message)) return 'read_only';
  if (code === 'XX001' || code === 'XX002' || /could not read block|invalid page in block|could not open file .* No such file/i.test(message)) return 'damaged';
  return null;
}

interface Episode {
  kind: StorageFault;
  since: number;
}

let episode: Episode | null = null;

/**
 * When `err` is a storage fault: notes it (the first of an episode is logged, once) and
 * returns the sentence for the caller; otherwise null.
 */
export function storageFaultSentence(err: unknown): string | null {
  const kind = classifyStorageFault(err);
  if (!kind) return null;
  if (episode?.kind !== kind) {
    episode = { kind, since: Date.now() };
    logEvent('storage_fault', { fault: kind, cause: CAUSES[kind], ...errorFields(err, false) });
  }
  return SENTENCES[kind];
}

/** The current episode's cause for /health, or null when storage is fine. */
export function currentStorageFault(): { fault: StorageFault; cause: string; since: string } | null {
  return episode ? { fault: episode.kind, cause: CAUSES[episode.kind], since: new Date(episode.since).toISOString() } : null;
}

/** Smaller free space than this in the embedded data directory counts as still full. */
const MIN_FREE_BYTES = 4 * 1024 * 1024;

/**
 * While an episode is open: asks the storage whether it is writable again (the embedded data
 * directory's filesystem has room and accepts writes; a real write commits), and closes the
 * episode with a log line when it is. Damaged files never clear by themselves.
 */
export async function probeStorage(sql: Sql, dataDir: string | null): Promise<void> {
  const e = episode;
  if (!e || e.kind === 'damaged') return;
  try {
    if (dataDir) {
      const st = fs.statfsSync(dataDir);
      if (st.bavail * st.bsize < MIN_FREE_BYTES) return;
      const probe = `${dataDir}/.aibt-write-probe`;
      fs.writeFileSync(probe, 'ok');
      fs.rmSync(probe, { force: true });
    }
    await sql`update storage_probe set checked_at = now()`;
  } catch {
    return;
  }
  if (episode === e) {
    episode = null;
    logEvent('storage_fault_cleared', { fault: e.kind, lasted_ms: Date.now() - e.since });
  }
}
