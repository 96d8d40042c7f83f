import { describe, expect, it } from 'vitest';
import { isValidCreditCode } from '../../../src/institutions/credit-code.js';

describe(isValidCreditCode.name, () => {
  it.each(['9144030071526726XG', '91330100716105852F'])('accepts the published code %s', (code) => {
    expect(isValidCreditCode(code)).toBe(true);
  });

  it.each([
    ['9144030071526726XA', 'a wrong check character'],
    ['9144030071526726X', '17 characters'],
    ['9144030071526726XGG', '19 characters'],
    ['9144030071526726OG', 'the letter O, which the code never uses'],
    ['91AB030071526726XG', 'letters in the division code'],
    ['9144030071526726xg', 'lower case'],
  ])('refuses %s (%s)', (code) => {
    expect(isValidCreditCode(code)).toBe(false);
  });
});
