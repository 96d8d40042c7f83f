import { type RequestHandler, Router } from 'express';
import { recordAudit } from '../../audit/audit.repository.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-key.repository.js';
import { createKeyBody } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf } from '../auth.middleware.js';
import { parseBody } from '../validate.js';

/** API keys: admins create (the token is shown once), list (never the secret) and revoke. */
export function keysRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.post('/keys', guard(['admin']), async (req, res) => {
    const input = parseBody(createKeyBody, req.body);
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
        email: input.email ?? null,
        createdBy: actor,
      });
      await recordAudit(trx, {
        actor,
        action: 'keys.create',
        target: result.key.id,
        details: {
          name: input.name,
          role: input.role,
          institution: input.institution ?? null,
          email: input.email ?? null,
        },
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
