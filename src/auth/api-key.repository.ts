import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiKeyRow, Database } from '../db/schema.js';
import { generateToken, hashToken, type Principal, type Role, tokenPrefix } from './api-key.js';

/** An API key as listed: never its secret. */
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly institution: string | null;
  /** Where receipts of this key's uploads are e-mailed, if anywhere. */
  readonly email: string | null;
  readonly prefix: string;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    institution: row.institution_code,
    email: row.email,
    prefix: row.token_prefix,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

/**
 * Creates a key and returns it with its token, which is not stored and cannot be shown again. `email`,
 * when given, receives a receipt of every upload accepted with the key.
 */
export async function createApiKey(
  db: Kysely<Database>,
  input: {
    name: string;
    role: Role;
    institution: string | null;
    email?: string | null | undefined;
    createdBy: string | null;
  },
): Promise<{ key: ApiKey; token: string }> {
  const token = generateToken();
  const row = await db
    .insertInto('api_keys')
    .values({
      id: randomUUID(),
      name: input.name,
      role: input.role,
      institution_code: input.role === 'institution' ? input.institution : null,
      token_hash: hashToken(token),
      token_prefix: tokenPrefix(token),
      email: input.email ?? null,
      created_by: input.createdBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { key: toApiKey(row), token };
}

export async function listApiKeys(db: Kysely<Database>): Promise<ApiKey[]> {
  const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toApiKey);
}

/** Revokes a key; returns false when there is no such active key. */
export async function revokeApiKey(db: Kysely<Database>, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Resolves a presented token to its principal; `undefined` for unknown or revoked keys. */
export async function findPrincipal(db: Kysely<Database>, token: string): Promise<Principal | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'institution_code', 'email'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row
    ? { keyId: row.id, name: row.name, role: row.role, institution: row.institution_code, email: row.email }
    : undefined;
}

/** Whether any active admin key exists (to decide on creating the first one). */
export async function hasActiveAdminKey(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('role', '=', 'admin')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}
