import { type RequestHandler, Router } from 'express';
import { findSilence, listSilences, toSilenceView } from '../../alerts/silence.repository.js';
import { createSilence, expireSilenceNow } from '../../alerts/silence.service.js';
import { idParam, silenceBody, silenceListQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf } from '../auth.middleware.js';
import { parseBody, parseQuery } from '../validate.js';

/**
 * Silences: supervisors and admins list, create and expire them. Institution keys see none, since a
 * silence may name any institution. Expiring keeps the silence, so the history can still name it.
 */
export function silencesRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const roles = guard(['admin', 'supervisor']);

  router.get('/silences', roles, async (req, res) => {
    const query = parseQuery(silenceListQuery, req.query);
    const at = deps.clock();
    res.json({ silences: (await listSilences(deps.db, { ...query, at })).map((s) => toSilenceView(s, at)) });
  });

  router.post('/silences', roles, async (req, res) => {
    const body = parseBody(silenceBody, req.body);
    const { rules, catalog } = deps.rules.current();
    const now = deps.clock();
    const m = body.matchers;
    const silence = await createSilence(
      deps.db,
      {
        ruleId: m.rule,
        institution: m.institution,
        institutionType: m.institution_type,
        county: m.county,
        severity: m.severity,
        startsAt: body.starts_at ? new Date(body.starts_at) : undefined,
        endsAt: new Date(body.ends_at),
        createdBy: principalOf(req).name,
        reason: body.reason,
      },
      { ruleIds: new Set(rules.map((r) => r.id)), types: catalog.types, counties: catalog.counties },
      now,
    );
    res.status(201).json(toSilenceView(silence, now));
  });

  router.get('/silences/:id', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const silence = await findSilence(deps.db, id);
    if (!silence) throw AppError.notFound(`Silence ${id}`);
    res.json(toSilenceView(silence, deps.clock()));
  });

  router.delete('/silences/:id', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const now = deps.clock();
    res.json(toSilenceView(await expireSilenceNow(deps.db, id, principalOf(req).name, now), now));
  });

  return router;
}
