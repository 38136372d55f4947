import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { argumentsSentence, defineTool, READ_ONLY } from './tool.js';

const tool = defineTool({
  name: 'create_model',
  title: 'x',
  description: 'x',
  scope: 'read',
  input: {
    initial_cash: z.number().min(0.01, { error: 'initial_cash must be more than 0.' }).describe('Dollars'),
    max_orders_per_minute: z.number().int().max(10000).optional().describe('Orders'),
  },
  output: {},
  annotations: READ_ONLY,
  handler: async () => ({ data: {}, summary: '' }),
});

describe('invalid argument messages', () => {
  it('says each problem in one sentence naming the argument, never an issue dump', () => {
    expect(argumentsSentence(tool, { initial_cash: 0 })).toBe('Invalid arguments for create_model: initial_cash must be more than 0.');
    expect(argumentsSentence(tool, { initial_cash: 1, max_orders_per_minute: 20000, leverage: 2 })).toBe(
      'Invalid arguments for create_model: max_orders_per_minute: Too big: expected number to be <=10000. Unrecognized key: "leverage".',
    );
    expect(argumentsSentence(tool, { initial_cash: 1 })).toBe('Invalid arguments for create_model.');
  });

  it('names the argument unless the message names it as a whole word, and says one problem per argument', () => {
    const nested = defineTool({
      name: 'nested',
      title: 'x',
      description: 'x',
      scope: 'read',
      input: {
        cap: z.object({ cap: z.number().max(1, { error: 'capacity exceeded' }) }).describe('An object'),
        price: z
          .number()
          .min(0.0001, { error: 'price must be at least $0.0001.' })
          .refine((v) => v === 0 || Math.abs(v) >= 1e-9, { error: 'price must not be a denormal.' })
          .describe('Dollars per share'),
      },
      output: {},
      annotations: READ_ONLY,
      handler: async () => ({ data: {}, summary: '' }),
    });
    // "capacity exceeded" holds the letters cap but not the argument's name as a word of its own
    expect(argumentsSentence(nested, { cap: { cap: 2 }, price: 1 })).toBe('Invalid arguments for nested: cap.cap: capacity exceeded.');
    // 1e-320 breaks both checks of price: one sentence, the first
    expect(argumentsSentence(nested, { cap: { cap: 0 }, price: 1e-320 })).toBe('Invalid arguments for nested: price must be at least $0.0001.');
  });
});
