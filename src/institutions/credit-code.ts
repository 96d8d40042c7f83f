/** Characters of a unified social credit code (GB 32100-2015): digits and capitals without I, O, S, V, Z. */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/**
 * Checks a unified social credit code (统一社会信用代码): 18 characters, a 6-digit administrative
 * division code at positions 3–8, and the GB 32100 check character (mod 31 over weighted values).
 */
export function isValidCreditCode(code: string): boolean {
  if (!SHAPE.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CHARSET.indexOf(code[i] as string) * (WEIGHTS[i] as number);
  const check = (31 - (sum % 31)) % 31;
  return code[17] === CHARSET[check];
}
