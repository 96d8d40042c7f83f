import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, tokenPrefix, tokensEqual } from '../../../src/auth/api-key.js';

describe('API key tokens', () => {
  it('are random, URL-safe and carry 256 bits', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateToken));
    expect(tokens.size).toBe(200);
    for (const t of tokens) expect(t).toMatch(/^rw_[A-Za-z0-9_-]{43}$/);
  });

  it('are stored as SHA-256 hex, never as themselves', () => {
    const token = generateToken();
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token.slice(3));
    expect(tokenPrefix(token)).toHaveLength(9);
  });

  it('compare equal only to themselves', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
  });
});
