import { describe, expect, it } from 'vitest';
import type { Bar } from './types.js';
import { tradingDays, dayBarStart, sessionFor } from './calendar.js';
import { MAX_GAP, SIMULATED_SYMBOLS, simulatedBars, simulatedDailyRange } from './simulated-market.js';

function expectConsistent(b: Bar) {
  expect(b.h!).toBeGreaterThanOrEqual(Math.max(b.o, b.c!));
  expect(b.l!).toBeLessThanOrEqual(Math.min(b.o, b.c!));
  expect(b.l!).toBeGreaterThan(0);
  expect(Number.isInteger(b.v)).toBe(true);
  expect(b.v!).toBeGreaterThan(0);
  for (const p of [b.o, b.h!, b.l!, b.c!]) expect(Math.round(p * 1e4) / 1e4).toBe(p);
}

function aggregate(bars: Bar[]) {
  return {
    o: bars[0]!.o,
    h: Math.max(...bars.map((b) => b.h!)),
    l: Math.min(...bars.map((b) => b.l!)),
    c: bars.at(-1)!.c,
    v: bars.reduce((a, b) => a + b.v!, 0),
  };
}

describe('simulated market', () => {
  it('is deterministic', () => {
    expect(simulatedBars('AAPL', 'minute', '2025-06-10')).toEqual(simulatedBars('AAPL', 'minute', '2025-06-10'));
    expect(simulatedDailyRange('MSFT', '2024-01-01', '2024-03-01')).toEqual(simulatedDailyRange('MSFT', '2024-01-01', '2024-03-01'));
    expect(simulatedBars('aapl', 'day', '2025-06-10')).toEqual(simulatedBars('AAPL', 'day', '2025-06-10'));
    // a day asked for cold (before its neighbours) equals the same day reached through a range
    const cold = simulatedBars('ZZCOLD', 'day', '2019-06-03')[0];
    expect(simulatedDailyRange('ZZCOLD', '2019-05-01', '2019-06-30').find((b) => b.t === cold!.t)).toEqual(cold);
  });

  it('has the session shape and consistent OHLC; the day is the aggregate of its minutes', () => {
    for (const date of ['2025-06-10', '2025-03-10', '2025-11-28', '2019-07-03', '2027-06-01']) {
      const minutes = simulatedBars('NVDA', 'minute', date);
      const s = sessionFor(date)!;
      expect(minutes).toHaveLength(s.halfDay ? 210 : 390);
      expect(minutes[0]!.t).toBe(s.open.toISOString());
      expect(Date.parse(minutes.at(-1)!.t)).toBe(s.close.getTime() - 60_000);
      minutes.forEach(expectConsistent);
      const [day] = simulatedBars('NVDA', 'day', date);
      expect(day!.t).toBe(dayBarStart(date).toISOString());
      expectConsistent(day!);
      expect({ o: day!.o, h: day!.h, l: day!.l, c: day!.c, v: day!.v }).toEqual(aggregate(minutes));
      const hours = simulatedBars('NVDA', 'hour', date);
      expect(hours).toHaveLength(s.halfDay ? 4 : 7);
      expect(hours.map((h) => h.t)).toEqual(minutes.filter((_, i) => i % 60 === 0).map((m) => m.t));
      expect(aggregate(hours)).toEqual(aggregate(minutes));
      hours.forEach(expectConsistent);
    }
  });

  it('matches the minute aggregate on every day of a month, for several symbols', () => {
    for (const sym of ['SPY', 'AMD', 'X']) {
      for (const date of tradingDays('2024-11-01', '2024-12-31')) {
        const { t: _t, ...day } = simulatedBars(sym, 'day', date)[0]!;
        expect(day, `${sym} ${date}`).toEqual(aggregate(simulatedBars(sym, 'minute', date)));
      }
    }
  });

  it('is empty on non-trading days', () => {
    expect(simulatedBars('AAPL', 'minute', '2025-07-04')).toEqual([]);
    expect(simulatedBars('AAPL', 'day', '2025-07-05')).toEqual([]);
    expect(simulatedDailyRange('AAPL', '2025-07-04', '2025-07-06')).toEqual([]);
  });

  it('continues from day to day through a bounded overnight gap', () => {
    for (const sym of ['AAPL', 'TSLA', 'KO']) {
      const days = simulatedDailyRange(sym, '2019-11-01', '2020-03-31'); // straddles the anchor
      expect(days.map((d) => d.t)).toEqual(tradingDays('2019-11-01', '2020-03-31').map((d) => dayBarStart(d).toISOString()));
      let gaps = 0;
      for (let i = 1; i < days.length; i++) {
        const g = days[i]!.o / days[i - 1]!.c! - 1;
        expect(Math.abs(g)).toBeLessThanOrEqual(MAX_GAP + 1e-3);
        if (Math.abs(g) > 1e-4) gaps++;
      }
      expect(gaps).toBeGreaterThan(days.length / 2); // gaps are real, not zero
    }
  });

  it('trades heavier at the open and close than at midday', () => {
    for (const sym of ['AAPL', 'XOM']) {
      let edge = 0;
      let mid = 0;
      for (const date of tradingDays('2025-05-01', '2025-05-14')) {
        const v = simulatedBars(sym, 'minute', date).map((b) => b.v!);
        edge += (v.slice(0, 30).reduce((a, b) => a + b, 0) + v.slice(-30).reduce((a, b) => a + b, 0)) / 60;
        mid += v.slice(165, 225).reduce((a, b) => a + b, 0) / 60;
      }
      expect(edge).toBeGreaterThan(1.5 * mid);
    }
  });

  it('gives different symbols different paths and plausible characters', () => {
    const a = simulatedDailyRange('AAPL', '2024-01-01', '2024-12-31');
    const b = simulatedDailyRange('MSFT', '2024-01-01', '2024-12-31');
    expect(a.map((x) => x.c)).not.toEqual(b.map((x) => x.c));
    for (const sym of SIMULATED_SYMBOLS) {
      const first = simulatedBars(sym, 'day', '2020-01-02')[0]!;
      expect(first.o).toBeGreaterThanOrEqual(20);
      expect(first.o).toBeLessThanOrEqual(500);
    }
    expect(SIMULATED_SYMBOLS.length).toBeGreaterThanOrEqual(20);
  });

  it('computes a year of daily bars, one per NYSE trading day', () => {
    const year = simulatedDailyRange('PERFX', '2026-01-01', '2026-12-31');
    expect(year).toHaveLength(tradingDays('2026-01-01', '2026-12-31').length);
    year.forEach(expectConsistent);
  });
});
