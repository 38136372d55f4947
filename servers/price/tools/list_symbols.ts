import { z } from 'zod';
import { decodeCursor, pageInput, pageOutput, toPage } from '../../../shared/mcp/paging.js';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';

export const listSymbolsTool = defineTool({
  name: 'list_symbols',
  title: 'List symbols',
  description:
    'Symbols with data, alphabetically: the source each is served from (imported, polygon, simulated) and the stored coverage per timespan; paged with limit/cursor (truncated, next_cursor). Simulated and Polygon symbols fill in on demand.',
  scope: 'read',
  input: {
    query: z.string().trim().max(10).optional().describe('Part of a ticker, e.g. AA'),
    ...pageInput(50, 500),
  },
  output: {
    symbols: z.array(
      z.object({
        symbol: z.string(),
        source: z.enum(['polygon', 'imported', 'simulated']),
        coverage: z.array(
          z.object({
            timespan: z.string(),
            source: z.string(),
            from: z.string().describe('Start of the first stored bar'),
            to: z.string().nullable().describe('Start of the latest closed bar (open-only bars are not closed)'),
            bars: z.number().describe('Stored bars closed by now in time, open-only ones included'),
            open_only: z.number(),
          }),
        ),
      }),
    ),
    polygon: z.boolean().describe('POLYGON_API_KEY is set: any US ticker can be fetched'),
    ...pageOutput,
  },
  annotations: READ_ONLY,
  async handler(args, { deps }) {
    const after = decodeCursor(args.cursor, 'string');
    const all = (await deps.market.listSymbols(new Date(), args.query || undefined))
      .filter((s) => after === undefined || s.symbol > after)
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    const { items: symbols, truncated, next_cursor } = toPage(all, { limit: args.limit, key: (s) => s.symbol });
    const polygon = Boolean(deps.config.POLYGON_API_KEY);
    const bySource = (s: string) => symbols.filter((x) => x.source === s).length;
    return {
      data: { symbols, polygon, truncated, next_cursor },
      summary: `${symbols.length} symbol(s)${args.query ? ` matching '${args.query}'` : ''}${truncated ? ` (${all.length - symbols.length} more: pass next_cursor)` : ''}: ${bySource('imported')} imported, ${bySource('polygon')} from Polygon, ${bySource('simulated')} simulated.${polygon ? ' Polygon is configured: other US tickers are fetched on first use.' : ''}`,
    };
  },
});
