import { z } from 'zod';
import { defineTool, READ_ONLY } from '../../../shared/mcp/tool.js';

export const listSymbolsTool = defineTool({
  name: 'list_symbols',
  title: 'List symbols',
  description:
    'Symbols with data: the source each is served from (imported, polygon, simulated) and the stored coverage per timespan. Simulated and Polygon symbols fill in on demand.',
  scope: 'read',
  input: {
    query: z.string().trim().max(10).optional().describe('Part of a ticker, e.g. AA'),
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
  },
  annotations: READ_ONLY,
  async handler(args, { deps }) {
    const symbols = await deps.market.listSymbols(new Date(), args.query || undefined);
    const polygon = Boolean(deps.config.POLYGON_API_KEY);
    const bySource = (s: string) => symbols.filter((x) => x.source === s).length;
    return {
      data: { symbols, polygon },
      summary: `${symbols.length} symbol(s)${args.query ? ` matching '${args.query}'` : ''}: ${bySource('imported')} imported, ${bySource('polygon')} from Polygon, ${bySource('simulated')} simulated.${polygon ? ' Polygon is configured: other US tickers are fetched on first use.' : ''}`,
    };
  },
});
