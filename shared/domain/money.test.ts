import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { centsToDecimal, formatCents, formatPct, formatPrice, notionalCents, priceTicks, roundPrice, toCents } from './money.js';

describe('money', () => {
  it('multiplies without float drift', () => {
    expect(0.1 * 3).not.toBe(0.3);
    expect(notionalCents(3, 0.1)).toBe(30);
    expect(notionalCents(31, 280)).toBe(868000);
    expect(notionalCents(7, '269.2750')).toBe(188493); // 1884.925 rounds half up
    expect(notionalCents(1, '0.0049')).toBe(0);
  });
  it('parses prices to ticks and cents', () => {
    expect(priceTicks('269.2750')).toBe(2692750n);
    expect(priceTicks(1.00005)).toBe(10001n);
    expect(toCents(10000)).toBe(1_000_000);
    expect(toCents('-12.345')).toBe(-1235);
    expect(roundPrice(100.123456)).toBe(100.1235);
  });
  it('notionalCents of a number price (the fast double path) equals the exact BigInt product from the price string, half away from zero', () => {
    // reference: the price as written with 6 decimals (string path), times the quantity in BigInt, rounded half away from zero
    const exact = (q: number, p: number) => {
      const n = BigInt(q) * priceTicks(p.toFixed(6));
      const c = n / 100n;
      const r = n % 100n;
      return Number((r < 0n ? -r : r) * 2n >= 100n ? (n < 0n ? c - 1n : c + 1n) : c);
    };
    const price = fc.oneof(fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((t) => t / 10_000), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0.005, 0.015, 1.00005, 269.275, 0.1, 1.0000005, 0.0000005, 123.4567895, -0.00001));
    fc.assert(fc.property(fc.integer({ min: -(10 ** 9), max: 10 ** 9 }), price, (q, p) => notionalCents(q, p) === exact(q, p)), { numRuns: 5000 });
    // past 2^46 ticks the BigInt path answers: 10^8 shares × $100,000 = 10^17 ticks = $10^13 = 10^15 cents
    expect(notionalCents(100_000_000, 100_000)).toBe(10 ** 15);
    expect(priceTicks(1e12)).toBe(10n ** 16n);
  });
  it('formats for people', () => {
    expect(formatCents(245000)).toBe('$2,450.00');
    expect(formatCents(-5)).toBe('-$0.05');
    expect(centsToDecimal(-1235)).toBe('-12.35');
    expect(formatPct(0.245)).toBe('24.5%');
    expect(formatPct(0.2)).toBe('20%');
  });
});

describe('money formatting', () => {
  it('formats prices to at most 4 decimals with grouping, as toLocaleString en-US does', () => {
    expect(formatPrice(1234.5)).toBe('$1,234.50');
    expect(formatPrice(0.123456)).toBe('$0.1235');
    expect(formatPrice(1e6)).toBe('$1,000,000.00');
    expect(formatCents(123456789)).toBe('$1,234,567.89');
    for (const p of [0, 1, 99.99, 100.12345, 2692.75, 123456.7891]) {
      expect(formatPrice(p)).toBe(`$${roundPrice(p).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`);
    }
  });
});
