import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../audit/audit.repository.js';
import { ROLES } from '../../auth/api-key.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-key.repository.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf } from '../auth.middleware.js';
import { parseBody } from '../validate.js';

export const createKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES),
    institution: z.string().trim().min(1).optional(),
  })
  .refine((k) => (k.role === 'institution') === (k.institution !== undefined), {
    message: 'institution is required for institution keys and not allowed for others',
    path: ['institution'],
  });

/** API keys: admins create (the token is shown once), list (never the secret) and revoke. */
export function keysRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.post('/keys', guard(['admin']), async (req, res) => {
    const input = parseBody(createKeySchema, req.body);
    const actor = principalOf(req).name;
    const created = await deps.db.transaction().execute(async (trx) => {
      if (input.institution) {
        const exists = await trx
          .selectFrom('institutions')
          .select('code')
          .where('code', '=', input.institution)
          .executeTakeFirst();
        if (!exists)
          throw AppError.unprocessable('unknown_institution', `Unknown institution ${input.institution}`, []);
      }
      const result = await createApiKey(trx, {
        name: input.name,
        role: input.role,
        institution: input.institution ?? null,
        createdBy: actor,
      });
      await recordAudit(trx, {
        actor,
        action: 'keys.create',
        target: result.key.id,
        details: { name: input.name, role: input.role, institution: input.institution ?? null },
      });
      return result;
    });
    res.status(201).json({ ...created.key, token: created.token });
  });

  router.get('/keys', guard(['admin']), async (_req, res) => {
    res.json({ keys: await listApiKeys(deps.db) });
  });

  router.delete('/keys/:id', guard(['admin']), async (req, res) => {
    const id = String(req.params.id);
    const actor = principalOf(req).name;
    const revoked = await deps.db.transaction().execute(async (trx) => {
      const done = await revokeApiKey(trx, id, deps.clock());
      if (done) await recordAudit(trx, { actor, action: 'keys.revoke', target: id });
      return done;
    });
    if (!revoked) throw AppError.notFound(`Active key ${id}`);
    res.status(204).end();
  });

  return router;
}
