import { describe, expect, it } from 'vitest';
import { invalidArguments } from './tool.js';

describe('invalid argument messages', () => {
  it('turns the SDK validation text into plain sentences naming each field', () => {
    expect(
      invalidArguments('MCP error -32602: Input validation error: Invalid arguments for tool create_model: initial_cash must be more than 0. at initial_cash'),
    ).toBe('Invalid arguments for create_model: initial_cash must be more than 0.');
    expect(
      invalidArguments('MCP error -32602: Input validation error: Invalid arguments for tool x: Too big: expected number to be <=10000 at max_orders_per_minute\nUnrecognized key: "leverage"'),
    ).toBe('Invalid arguments for x: max_orders_per_minute: Too big: expected number to be <=10000. Unrecognized key: "leverage".');
    expect(invalidArguments('Model 3 was not found.')).toBeNull();
  });
});
