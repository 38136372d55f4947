// npm run test:reliability: outages and abuse against real processes (.ci/run runs it after
// test:services). Tests that stop Postgres or Redis start private ones (initdb, redis-server);
// the others use DATABASE_URL / REDIS_URL when set, else the embedded default.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/reliability/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    // one attack at a time: they measure the machine, and share its two cores
    fileParallelism: false,
  },
});
