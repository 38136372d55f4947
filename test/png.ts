// Reading PNGs in tests: decode with pngjs and count the pixels of a colour.
import { PNG } from 'pngjs';

export function decodePng(png: Buffer): PNG {
  return PNG.sync.read(png);
}

/**
 * Pixels within a small colour distance (sum of channel differences) of a #rrggbb colour,
 * from row `fromRow` down: anti-aliasing blends only the edges of a 2-px line.
 */
export function pixelsNear(png: Buffer, hex: string, opts: { tolerance?: number; fromRow?: number } = {}): number {
  const img = decodePng(png);
  const tolerance = opts.tolerance ?? 24;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let n = 0;
  for (let i = (opts.fromRow ?? 0) * img.width * 4; i < img.data.length; i += 4) {
    if (Math.abs(img.data[i]! - r) + Math.abs(img.data[i + 1]! - g) + Math.abs(img.data[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}
