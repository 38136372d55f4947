import { describe, expect, it } from 'vitest';
import { classifyStorageFault } from './faults.js';

// The errors as PGlite and Postgres 15 raise them (the disk-full one seen in
// test/reliability/storage-faults.test.ts; SQLSTATEs from the PostgreSQL manual, Appendix A).
describe('classifyStorageFault', () => {
  it('tells a full disk, a read-only filesystem and damaged files from other errors', () => {
    expect(classifyStorageFault({ code: '53100', message: 'could not extend file "base/5/16726": No space left on device' })).toBe('disk_full');
    expect(classifyStorageFault({ code: '58030', message: 'could not write to file "pg_wal/xlogtemp.1": No space left on device' })).toBe('disk_full');
    expect(classifyStorageFault({ code: '58030', message: 'could not open file "base/5/16726": Read-only file system' })).toBe('read_only');
    expect(classifyStorageFault({ code: 'EROFS', message: 'EROFS: read-only file system' })).toBe('read_only');
    expect(classifyStorageFault({ code: 'XX001', message: 'invalid page in block 3 of relation base/5/16726' })).toBe('damaged');
    expect(classifyStorageFault({ code: '58030', message: 'could not read block 0 in file "base/5/1259": read only 0 of 8192 bytes' })).toBe('damaged');
    expect(classifyStorageFault({ code: '23505', message: 'duplicate key value violates unique constraint' })).toBeNull();
    expect(classifyStorageFault(new Error('boom'))).toBeNull();
    expect(classifyStorageFault(null)).toBeNull();
  });
});
