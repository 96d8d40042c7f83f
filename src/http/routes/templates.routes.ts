import { type RequestHandler, Router } from 'express';
import { buildTemplate, latestEndedMonth } from '../../ingest/template.js';
import {
  TEMPLATE_MEDIA_TYPES,
  templateFileName,
  templateToCsv,
  templateToXlsx,
} from '../../ingest/template.writer.js';
import { findInstitutions } from '../../institutions/institution.repository.js';
import { templateParams, templateQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/** Upload templates: the wide-layout file an institution of a type fills in, for every role. */
export function templatesRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.get(
    '/templates/:institutionType',
    guard(['admin', 'supervisor', 'institution']),
    async (req, res) => {
      const { institutionType } = parseQuery(templateParams, req.params);
      const query = parseQuery(templateQuery, req.query);
      const { catalog } = deps.rules.current();
      if (!catalog.types.has(institutionType)) {
        throw new AppError(
          404,
          'unknown_institution_type',
          `Institution type ${institutionType} is not in the catalog`,
        );
      }
      const now = deps.clock();
      const template = buildTemplate(catalog, {
        type: institutionType,
        lang: query.lang,
        period: query.period ?? latestEndedMonth(now, deps.config.timeZone),
        institution: await ownInstitution(deps, principalOf(req).institution, institutionType),
      });
      const body = query.format === 'csv' ? templateToCsv(template) : await templateToXlsx(template, now);
      res
        .attachment(templateFileName(template, query.format))
        .type(TEMPLATE_MEDIA_TYPES[query.format])
        // The prefilled row depends on the key and the clock.
        .set('Cache-Control', 'private, no-store')
        .send(body);
    },
  );

  return router;
}

/**
 * The institution code to prefill: an institution key's own, when its institution is of the
 * requested type (a code the template's metrics do not fit would only earn upload errors).
 */
async function ownInstitution(deps: AppDeps, code: string | null, type: string): Promise<string | null> {
  if (code === null) return null;
  const found = (await findInstitutions(deps.db, [code])).get(code);
  return found?.type === type ? code : null;
}
