// Database round trips per tool call, counted by shared/db/round-trips.ts (every flush of
// the driver's socket): the performance issue's targets, on the embedded database and on
// Postgres (npm run test:services). Each call is measured warm: the key verified, the
// driver's statements prepared and the market blocks cached by an earlier identical call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../shared/auth/keys.js';
import { getModelDetail } from '../shared/store/models.js';
import { runsServer } from '../servers/runs/server.js';
import { bootSuite, call, ok, type TestSuite } from './harness.js';

let t: TestSuite;
beforeAll(async () => {
  t = await bootSuite({ specs: [runsServer] });
});
afterAll(() => t?.close());

const trips = <T>(f: () => Promise<T>) => t.suite.deps.db.roundTrips.measure(f);

/**
 * The warm count: the fewest round trips over `n` calls. A pool of several connections
 * (Postgres) prepares a statement once per connection, and its first use on a connection
 * costs one more trip; the embedded database has one connection.
 */
async function warmTrips(n: number, f: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, (await trips(f)).roundTrips);
  return best;
}

describe('database round trips', () => {
  it('counts on this connection (a plain socket: loopback Postgres or the embedded database)', () => {
    expect(t.suite.deps.db.roundTrips.counted).toBe(true);
  });

  it('a read-only tool with a warm key cache makes its own reads only: no key query', async () => {
    const { key, name } = await t.user(['read', 'trade', 'rules:write']);
    const runs = await t.client('runs', key);
    const model = await ok(runs, 'create_model', { name: 'rt-read' });
    await ok(runs, 'get_model', { model_id: model.model_id }); // warm: statements prepared, key cached
    const auth = (await authenticate(t.suite.deps.sql, key))!;
    expect(auth.userName).toBe(name);
    const own = await warmTrips(12, () => getModelDetail(t.suite.deps.sql, auth.userId, model.model_id));
    const viaTool = await warmTrips(12, async () => {
      const r = await call(runs, 'get_model', { model_id: model.model_id });
      expect(r.isError).toBe(false);
    });
    expect(own).toBeGreaterThan(0);
    expect(viaTool).toBe(own);
  });
});
