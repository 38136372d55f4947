// npm run test:services: the whole suite against the real Postgres 15 and Redis that
// .ci/run starts (DATABASE_URL, REDIS_URL), plus the *.services.test.ts that need them.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  throw new Error('test:services needs DATABASE_URL and REDIS_URL (see .ci/run).');
}

export default defineConfig({
  test: { ...base.test, exclude: ['**/node_modules/**', 'test/reliability/**'] },
});
