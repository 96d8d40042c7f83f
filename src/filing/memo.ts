/**
 * A bounded cache for pure calendar computations. Evaluations ask for the same few days, periods and
 * `now` over and over, and each answer never changes, so caching is safe; the cache empties itself when
 * it grows past a bound that ordinary use never reaches.
 */
const memo = new Map<string, number | string>();
const MEMO_LIMIT = 10_000;

/** The cached value for `key`, computing and storing it on a miss. Keys must encode every input. */
export function remember<T extends number | string>(key: string, compute: () => T): T {
  const known = memo.get(key);
  if (known !== undefined) return known as T;
  const value = compute();
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}
