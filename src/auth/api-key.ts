import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Roles a key can hold. `institution` keys are bound to one institution. */
export const ROLES = ['admin', 'supervisor', 'institution'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: resolved from the bearer token of a request. */
export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
  /** Set for `institution` keys only. */
  readonly institution: string | null;
  /** Where receipts of this caller's uploads are e-mailed; `null` for none (and for ADMIN_TOKEN, the CLI). */
  readonly email: string | null;
}

const TOKEN_PREFIX = 'rw_';

/** A new random API key: 256 bits, URL-safe. Shown once; only its hash is kept. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** SHA-256 of a token, hex. A fast hash is right here: tokens are random, not guessable passwords. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The first characters of a token, kept to let people tell their keys apart. */
export function tokenPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6);
}

/** Compares two tokens in constant time (by their hashes, so lengths need not match). */
export function tokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a), 'hex'), Buffer.from(hashToken(b), 'hex'));
}
