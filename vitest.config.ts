import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['servers/**/*.test.ts', 'shared/**/*.test.ts', 'test/**/*.test.ts'],
    // *.services.test.ts need a real Redis/Postgres: `npm run test:services` runs them.
    exclude: ['**/node_modules/**', '**/*.services.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
