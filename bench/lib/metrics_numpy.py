# The numpy side of bench/metrics.ts: the curve metrics calculate_metrics computes (session-close
# returns by New York date, total and annualized return, volatility, Sharpe, Sortino, drawdown
# with its peak/valley/recovery, best/worst period, calmar), and the same over every step, on
# the curve the bench wrote (float64 little-endian files: clocks in epoch ms, values in dollars).
# Prints JSON: the median time of each over REPEAT runs (ms, data already in memory) and the figures.
import json, sys, time
from datetime import datetime, timedelta, timezone
import numpy as np

clock = np.fromfile(sys.argv[1], dtype='<f8')
value = np.fromfile(sys.argv[2], dtype='<f8')
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 5

def dst_edges(years):
    # US rules since 2007: EDT from the 2nd Sunday of March 07:00 UTC to the 1st Sunday of November 06:00 UTC
    out = []
    for y in years:
        m = datetime(y, 3, 1, tzinfo=timezone.utc); m += timedelta(days=(6 - m.weekday()) % 7 + 7)
        n = datetime(y, 11, 1, tzinfo=timezone.utc); n += timedelta(days=(6 - n.weekday()) % 7)
        out += [(m + timedelta(hours=7)).timestamp() * 1000, (n + timedelta(hours=6)).timestamp() * 1000]
    return np.array(out)

y0 = datetime.fromtimestamp(clock[0] / 1000, timezone.utc).year
y1 = datetime.fromtimestamp(clock[-1] / 1000, timezone.utc).year
EDGES = dst_edges(range(y0, y1 + 1))

def curve(t, v, session_close):
    ppy = 252.0 if session_close else 252.0 * 390
    if session_close:
        off = np.where(np.searchsorted(EDGES, t[1:], side='right') % 2 == 1, -4 * 3600e3, -5 * 3600e3)
        day = np.floor((t[1:] + off) / 86400e3)
        last = np.flatnonzero(np.diff(day) != 0)
        idx = np.concatenate(([0], last + 1, [len(t) - 1]))
        rv = v[idx]
    else:
        rv = v
    r = rv[1:] / rv[:-1] - 1
    n = len(r)
    total = v[-1] / v[0] - 1
    ann = (1 + total) ** (ppy / n) - 1
    mu = r.mean()
    sd = r.std(ddof=1)
    dd_dev = np.sqrt(np.mean(np.minimum(r, 0) ** 2))
    peak = np.maximum.accumulate(v)
    dd = v / peak - 1
    valley = int(np.argmin(dd))
    p = int(np.flatnonzero(v[: valley + 1] == peak[valley])[-1])
    rec = np.flatnonzero(v[valley + 1 :] >= v[p])
    return {
        'periods': n, 'total_return': total, 'annualized_return': ann, 'volatility': sd * np.sqrt(ppy),
        'sharpe': mu / sd * np.sqrt(ppy), 'sortino': mu / dd_dev * np.sqrt(ppy), 'max_drawdown': float(dd[valley]),
        'calmar': ann / abs(dd[valley]), 'peak': p, 'valley': valley, 'recovery': int(rec[0] + valley + 1) if len(rec) else None,
        'best': float(r.max()), 'worst': float(r.min()),
    }

out = {}
for name, sc in (('session_close', True), ('per_step', False)):
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        figures = curve(clock, value, sc)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out[name] = {'ms': times[len(times) // 2], 'figures': {k: (float(x) if x is not None else None) for k, x in figures.items()}}
print(json.dumps(out))
