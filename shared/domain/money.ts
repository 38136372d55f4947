// Money without binary-float drift: cash and values are integer cents, prices are
// dollars with at most 4 decimals, and every product goes through BigInt.

const PRICE_SCALE = 10_000n; // price ticks per dollar (4 dp)

/** Price in dollars → integer ticks of $0.0001. */
export function priceTicks(price: number | string): bigint {
  if (typeof price !== 'number') return parseTicks(price.trim());
  const t = numberTicks(price);
  return t === null ? parseTicks(price.toFixed(6)) : BigInt(t);
}

function parseTicks(s: string): bigint {
  const neg = s.startsWith('-');
  const [whole, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const frac6 = (frac + '000000').slice(0, 6);
  // round half up from 6 dp to 4 dp
  let ticks = BigInt(whole || '0') * PRICE_SCALE + BigInt(frac6.slice(0, 4));
  if (Number(frac6.slice(4)) >= 50) ticks += 1n;
  return neg ? -ticks : ticks;
}

/** Below this many dollars a price times 10^6 is within 2^-9 of its exact decimal product. */
const EXACT_DOLLARS = 2 ** 44 / 1e6;

/**
 * priceTicks of a number as an integer, without strings where doubles are exact: toFixed(6)'s
 * integer (the nearest to |price| × 10^6) found with Math.round when the product is not within
 * 10^-3 of a half, then rounded half up to 4 dp as parseTicks does. Null when too large for a
 * safe integer. A replay prices every bar, so this runs millions of times.
 */
function numberTicks(price: number): number | null {
  const a = Math.abs(price);
  const x = a * 1e6;
  let t: number;
  if (a < EXACT_DOLLARS && Math.abs(x - Math.floor(x) - 0.5) > 1e-3) {
    const n6 = Math.round(x);
    t = Math.floor(n6 / 100) + (n6 % 100 >= 50 ? 1 : 0);
  } else {
    t = Number(parseTicks(a.toFixed(6)));
    if (!Number.isSafeInteger(t)) return null;
  }
  return price < 0 && t !== 0 ? -t : t;
}

/** Below this many ticks a double divides by 100 without its rounding reaching the next integer. */
const EXACT_TICKS = 2 ** 46;

/** Round a price to 4 dp. */
export function roundPrice(price: number): number {
  return Number(priceTicks(price)) / 10_000;
}

/** Dollars → integer cents, rounded half away from zero. */
export function toCents(dollars: number | string): number {
  const ticks = priceTicks(dollars);
  return Number(divRound(ticks, 100n));
}

export function fromCents(cents: number): number {
  return cents / 100;
}

/** quantity × price in integer cents, rounded half away from zero. */
export function notionalCents(quantity: number, price: number | string): number {
  const t = typeof price === 'number' && Number.isSafeInteger(quantity) ? numberTicks(price) : null;
  if (t !== null) {
    // The same rounding as the BigInt path, in doubles: the product is an exact integer and n / 100 truncates exactly.
    const n = quantity * t;
    if (Math.abs(n) < EXACT_TICKS) {
      const q = Math.trunc(n / 100);
      const r = n - q * 100;
      return (Math.abs(r) * 2 >= 100 ? q + Math.sign(n) : q) + 0; // + 0: never -0
    }
  }
  return Number(divRound(BigInt(quantity) * priceTicks(price), 100n));
}

/** Cents as a numeric string for SQL, e.g. 245000 → "2450.00". */
export function centsToDecimal(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(cents);
  return `${neg ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

// Built once: toLocaleString builds a formatter on every call (a hot path: order messages).
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const PRICE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/** $2,450.00 */
export function formatCents(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(cents);
  return `${neg ? '-' : ''}$${WHOLE.format(Math.floor(abs / 100))}.${String(abs % 100).padStart(2, '0')}`;
}

/** $1,234.5678: dollars rounded to 4 dp, at least 2 shown. */
export function formatPrice(price: number): string {
  return `$${PRICE.format(roundPrice(price))}`;
}

/** 0.245 → "24.5%" (up to 2 decimals, trailing zeros dropped). */
export function formatPct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

function divRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}
