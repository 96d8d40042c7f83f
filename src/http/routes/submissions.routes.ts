import { type RequestHandler, Router } from 'express';
import multer from 'multer';
import { findSubmission, listSubmissions } from '../../ingest/submission.repository.js';
import { type SubmissionObserver, submitObservations } from '../../ingest/submission.service.js';
import { type ReadUpload, readFileUpload, readJsonUpload } from '../../ingest/upload.reader.js';
import { idParam, submissionListQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf, scopeInstitution, visibleOrNotFound } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/** Submissions: institutions and admins upload; everyone reads what their role allows. */
export function submissionsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 10, parts: 12 },
  });
  const observer: SubmissionObserver = {
    accepted: () => deps.metrics.submissions.inc({ result: 'accepted' }),
    rejected: (codes) => {
      deps.metrics.submissions.inc({ result: 'rejected' });
      for (const code of codes) deps.metrics.validationErrors.inc({ code });
    },
    evaluated: (seconds, health) => deps.metrics.recordEvaluation(seconds, health, deps.clock()),
  };

  router.post('/submissions', guard(['admin', 'institution']), upload.single('file'), async (req, res) => {
    const principal = principalOf(req);
    let upload: ReadUpload;
    try {
      if (req.file) {
        const charset = /charset=([^;]+)/i.exec(req.file.mimetype)?.[1];
        upload = readFileUpload(
          req.file.buffer,
          req.file.originalname || null,
          deps.rules.current().catalog,
          charset,
        );
      } else if (req.is('application/json')) {
        upload = readJsonUpload(req.body);
      } else {
        throw AppError.badRequest(
          'missing_file',
          'Send a multipart form with a "file" field, or a JSON body',
        );
      }
    } catch (error) {
      if (error instanceof AppError && error.status === 422)
        observer.rejected(error.errors.map((e) => e.code));
      throw error;
    }
    const receipt = await submitObservations(
      { db: deps.db, snapshot: () => deps.rules.current(), observer },
      upload.observations,
      upload.meta,
      principal,
      deps.clock(),
    );
    if (receipt.alerts.length > 0) deps.notificationsQueued?.();
    const only = receipt.submissions.length === 1 ? receipt.submissions[0] : undefined;
    res
      .status(201)
      .location(only ? `/api/v1/submissions/${only.id}` : '/api/v1/submissions')
      .json({ ...(only ? { id: only.id, version: only.version } : {}), ...receipt });
  });

  router.get('/submissions', guard(['admin', 'supervisor', 'institution']), async (req, res) => {
    const query = parseQuery(submissionListQuery, req.query);
    const institution = scopeInstitution(principalOf(req), query.institution);
    res.json({ submissions: await listSubmissions(deps.db, { ...query, institution }) });
  });

  router.get('/submissions/:id', guard(['admin', 'supervisor', 'institution']), async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const submission = await findSubmission(deps.db, id);
    res.json(
      visibleOrNotFound(principalOf(req), submission, (found) => found.institution, `Submission ${id}`),
    );
  });

  return router;
}
