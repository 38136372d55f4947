import { z } from 'zod';
import { computeIndicator, warmupBars, type IndicatorSpec } from '../../../shared/domain/indicators.js';
import { symbolSchema } from '../../../shared/mcp/schemas.js';
import { defineTool } from '../../../shared/mcp/tool.js';
import { asOfInput, asOfOutput, resolveAsOf, timespanSchema } from './as-of.js';

const MAX_PERIOD = 250;

export const getIndicatorsTool = defineTool({
  name: 'get_indicators',
  title: 'Get indicators',
  description:
    "Latest value of each indicator (sma, ema, rsi, macd 12/26/9, bbands 2σ, atr, vwap) over the bars closed by 'now', with enough warm-up history for recursive ones.",
  scope: 'read',
  input: {
    symbol: symbolSchema,
    timespan: timespanSchema,
    indicators: z
      .array(
        z.object({
          name: z.enum(['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'vwap']),
          period: z.number().int().min(1).max(MAX_PERIOD).optional().describe('Bars (defaults: sma/ema/bbands/vwap 20, rsi/atr 14)'),
        }, { error: 'each indicator is an object such as {"name": "rsi", "period": 14}.' }),
      )
      .min(1, { error: 'indicators must name at least one indicator.' })
      .max(20)
      .describe('1–20 indicators, e.g. [{"name": "rsi", "period": 14}]'),
    ...asOfInput,
  },
  output: {
    symbol: z.string(),
    timespan: z.string(),
    values: z.array(
      z.object({
        name: z.string(),
        period: z.number().nullable(),
        value: z.union([z.number(), z.record(z.string(), z.number())]).nullable().describe('null: too few bars'),
        bars_used: z.number(),
        warmup_complete: z.boolean().describe('As many bars as the warm-up asks for were available'),
      }),
    ),
    last_bar_t: z.string().nullable().describe('Start of the last bar the values include'),
    source: z.enum(['polygon', 'imported', 'simulated']),
    ...asOfOutput,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, { deps, auth }) {
    const { now, runId } = await resolveAsOf(deps, auth, args);
    const specs = args.indicators as IndicatorSpec[];
    const needs = specs.map((s) => warmupBars(s, args.timespan));
    const need = Math.max(...needs); // at most 5001 (RSI or ATR of 250 bars)
    const { bars, source } = await deps.market.barsAsOf(args.symbol, args.timespan, { limit: need, asOf: now });
    const values = specs.map((s, i) => {
      const r = computeIndicator(bars.slice(-needs[i]!), s, args.timespan);
      return { name: r.name, period: r.period, value: r.value, bars_used: r.bars_used, warmup_complete: bars.length >= needs[i]! };
    });
    const fmt = (v: (typeof values)[number]['value']) =>
      v === null ? 'n/a (too few bars)' : typeof v === 'number' ? v.toFixed(4) : Object.entries(v).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(', ');
    return {
      data: { symbol: args.symbol, timespan: args.timespan, values, last_bar_t: bars.at(-1)?.t ?? null, source, as_of: now.toISOString(), run_id: runId },
      summary: `${args.symbol} ${args.timespan} as of ${now.toISOString()} (${bars.length} closed bars, source ${source}): ${values.map((v) => `${v.name}${v.period ? `(${v.period})` : ''} ${fmt(v.value)}`).join('; ')}.`,
    };
  },
});
