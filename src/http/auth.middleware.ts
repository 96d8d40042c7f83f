import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Kysely } from 'kysely';
import { type Principal, type Role, tokensEqual } from '../auth/api-key.js';
import { findPrincipal } from '../auth/api-key.repository.js';
import type { Database } from '../db/schema.js';
import { AppError } from './app-error.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Who may call a route: some roles, or anyone. Every route declares one. */
export type Access = readonly Role[] | 'public';

const ADMIN_TOKEN_PRINCIPAL: Principal = {
  keyId: 'admin-token',
  name: 'admin-token',
  role: 'admin',
  institution: null,
  email: null,
};

/** Reads the bearer token of a request, if any. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Builds the guard for one route: resolves the bearer token to a principal (the configured
 * ADMIN_TOKEN counts as an admin key) and checks its role. 401 without a valid key, 403 with the
 * wrong role.
 */
export function authorize(db: Kysely<Database>, adminToken: string | undefined) {
  return (access: Access): RequestHandler =>
    async (req: Request, _res: Response, next: NextFunction) => {
      if (access === 'public') return next();
      const token = bearerToken(req);
      if (!token) throw AppError.unauthorized();
      const principal =
        adminToken && tokensEqual(token, adminToken) ? ADMIN_TOKEN_PRINCIPAL : await findPrincipal(db, token);
      if (!principal) throw AppError.unauthorized('The API key is unknown or revoked');
      if (!access.includes(principal.role))
        throw AppError.forbidden(`This route is for ${access.join(', ')} keys`);
      req.principal = principal;
      next();
    };
}

/** The principal of an authorized request; throws if a route forgot its guard. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw new Error('Route reached without authorization');
  return req.principal;
}

/**
 * The institution a caller may see: institution keys only their own (a request for another one is
 * 403), other roles whatever they asked for.
 */
export function scopeInstitution(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.role !== 'institution') return requested;
  if (requested !== undefined && requested !== principal.institution) {
    throw AppError.forbidden('An institution key sees only its own institution');
  }
  return principal.institution ?? undefined;
}

/**
 * Returns a record the caller may see, or 404s: absent, or another institution's for an institution
 * key. Both answer alike, so ids reveal nothing about other institutions.
 */
export function visibleOrNotFound<T>(
  principal: Principal,
  found: T | undefined,
  institutionOf: (record: T) => string | null,
  what: string,
): T {
  if (
    found === undefined ||
    (principal.role === 'institution' && institutionOf(found) !== principal.institution)
  ) {
    throw AppError.notFound(what);
  }
  return found;
}
