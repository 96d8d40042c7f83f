/**
 * Deterministic pseudo-randomness for demo data: every draw is a pure function of a text key, so a
 * value depends only on what it describes (institution, metric, period), never on call order or the clock.
 */

/** FNV-1a over the UTF-16 code units of `text`: a 32-bit unsigned seed. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number in [0, 1) fixed by `key`. */
export function unitNoise(key: string): number {
  return mulberry32(hashSeed(key))();
}

/** A number in [-1, 1) fixed by `key`. */
export function signedNoise(key: string): number {
  return unitNoise(key) * 2 - 1;
}
