import { hashSeed, mulberry32 } from './demo.random.js';

/** Characters of a unified social credit code (GB 32100-2015): digits and letters without I, O, S, V, Z. */
const GB32100_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** Weights of the organisation code's check digit (GB 11714-1997). */
const GB11714_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

/** The GB 11714 check character of an 8-digit organisation code body. */
function organisationCheck(body: string): string {
  const sum = [...body].reduce((s, c, i) => s + Number.parseInt(c, 36) * (GB11714_WEIGHTS[i] ?? 0), 0);
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** The GB 32100 check character (18th) of the first 17 characters of a credit code. */
export function creditCodeCheckChar(first17: string): string {
  const sum = [...first17].reduce((s, c, i) => s + GB32100_CHARS.indexOf(c) * (GB32100_WEIGHTS[i] ?? 0), 0);
  return GB32100_CHARS[(31 - (sum % 31)) % 31] ?? '0';
}

/**
 * A fictional but checksum-valid unified social credit code for a company (`91` = registered with
 * market regulation, enterprise) in the given 6-digit administrative division, fixed by `seedKey`.
 */
export function demoCreditCode(division: string, seedKey: string): string {
  const next = mulberry32(hashSeed(`credit-code:${seedKey}`));
  let body = '';
  for (let i = 0; i < 8; i++) body += String(Math.floor(next() * 10));
  const first17 = `91${division}${body}${organisationCheck(body)}`;
  return first17 + creditCodeCheckChar(first17);
}
