// The README's first session ("Trading inside the guard rails"), step by step, as a script:
//   AIBT_OWNER_KEY=... AIBT_AGENT_KEY=... npx tsx scripts/walkthrough.ts
// against a running `npm start`. The owner key (read,trade,rules:write,approve) sets up the
// model and its rules; the agent key (read,trade) trades. Ports come from the suite's own
// TRADE_PORT ... RUNS_PORT (default 3101-3105), the host from AIBT_HOST (default 127.0.0.1).
// Prints one line per step (`N. server tool {args} -> the tool's summary`) and exits 1 with
// the tool's sentence when a step does not do what the README says. test/walkthrough.test.ts
// runs it and checks its steps against the README's numbered list.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const env = process.env;
const host = env.AIBT_HOST ?? '127.0.0.1';
const port = { trade: env.TRADE_PORT ?? '3101', price: env.PRICE_PORT ?? '3102', rules: env.RULES_PORT ?? '3103', runs: env.RUNS_PORT ?? '3104' };
type Server = keyof typeof port;

async function connect(server: Server, key: string): Promise<Client> {
  const client = new Client({ name: 'aibt-walkthrough', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://${host}:${port[server]}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  return client;
}

let step = 0;
/** Calls one tool, prints the step line, returns its structuredContent; a tool error ends the script. */
async function call(clients: Record<Server, Client>, server: Server, tool: string, args: Record<string, unknown>): Promise<any> {
  const res = (await clients[server].callTool({ name: tool, arguments: args })) as { structuredContent?: any; content?: { type: string; text?: string }[]; isError?: boolean };
  const text = (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ').split('\n')[0];
  console.log(`${++step}. ${server} ${tool} ${JSON.stringify(args)} -> ${text}`);
  if (res.isError) throw new Error(`${tool} failed: ${text}`);
  return res.structuredContent;
}

async function main(): Promise<void> {
  const ownerKey = env.AIBT_OWNER_KEY;
  const agentKey = env.AIBT_AGENT_KEY;
  if (!ownerKey || !agentKey) throw new Error('Set AIBT_OWNER_KEY (read,trade,rules:write,approve) and AIBT_AGENT_KEY (read,trade): see the README, Keys and scopes.');
  const servers = Object.keys(port) as Server[];
  const owner = Object.fromEntries(await Promise.all(servers.map(async (s) => [s, await connect(s, ownerKey)]))) as Record<Server, Client>;
  const agent = Object.fromEntries(await Promise.all(servers.map(async (s) => [s, await connect(s, agentKey)]))) as Record<Server, Client>;
  try {
    // the owner: a model and its rules
    const model = await call(owner, 'runs', 'create_model', { name: `Walkthrough ${new Date().toISOString().slice(0, 19)}`, initial_cash: 100_000 });
    await call(owner, 'rules', 'apply_template', { model_id: model.model_id, template: 'day_trader' });
    // the agent: a replay day, trading inside those rules
    const run = await call(agent, 'runs', 'start_run', { model_id: model.model_id, kind: 'replay', timespan: 'minute', start: '2025-06-10', end: '2025-06-10', symbols: ['JPM', 'KO'] });
    await call(agent, 'runs', 'advance_run', { run_id: run.run_id, steps: 10 }); // past the template's 09:30-09:35 blackout
    const price = await call(agent, 'price', 'get_price', { symbol: 'JPM', run_id: run.run_id });
    const quantity = Math.floor((100_000 * 0.1) / price.price); // 10% of the cash, inside the 20% position limit
    const order = await call(agent, 'trade', 'buy', { model_id: model.model_id, symbol: 'JPM', quantity, reasoning: 'Walkthrough: a first position, 10% of the cash' });
    if (order.status !== 'filled') throw new Error(`The first order was ${order.status}: ${(order.rejections ?? []).map((r: { message: string }) => r.message).join('; ')}`);
    await call(agent, 'runs', 'advance_run', { run_id: run.run_id, steps: 60 });
    await call(agent, 'trade', 'get_portfolio', { model_id: model.model_id }); // as step 8 shows
    const ended = await call(agent, 'runs', 'end_run', { run_id: run.run_id });
    if (!ended.final_stats) throw new Error('end_run returned no final_stats.');
  } finally {
    await Promise.all([...Object.values(owner), ...Object.values(agent)].map((c) => c.close()));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
