import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['servers/**/*.test.ts', 'shared/**/*.test.ts', 'test/**/*.test.ts'],
    // *.services.test.ts need a real Redis/Postgres: `npm run test:services` runs them.
    // test/reliability stops and starts its own Postgres and Redis: `npm run test:reliability`.
    exclude: ['**/node_modules/**', '**/*.services.test.ts', 'test/reliability/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
