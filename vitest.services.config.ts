// npm run test:services: the whole suite against the real Postgres 15 and Redis that
// .ci/run starts (DATABASE_URL, REDIS_URL), plus the tests that need them.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  throw new Error('test:services needs DATABASE_URL and REDIS_URL (see .ci/run).');
}

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['**/node_modules/**'],
    },
  }),
);
