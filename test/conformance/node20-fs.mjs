// The conformance CLI 0.1.16 imports fs.globSync (Node 22+) at load time, for its tier-check
// command only; this stand-in lets its server runner start on Node 20 (the project's floor).
import fs from 'node:fs';
export * from 'node:fs';
export default fs;
export const globSync =
  fs.globSync ??
  function globSync() {
    throw new Error('fs.globSync needs Node 22; the conformance tier-check command is not available on Node 20.');
  };
