import { type RequestHandler, Router } from 'express';
import multer from 'multer';
import { parseCsv } from '../../ingest/csv.parser.js';
import { decodeText } from '../../ingest/decode.js';
import { parseJsonUpload } from '../../ingest/json.parser.js';
import type { RawObservation } from '../../ingest/observation.types.js';
import { findSubmission, listSubmissions } from '../../ingest/submission.repository.js';
import {
  type SubmissionObserver,
  submitObservations,
  type UploadMeta,
} from '../../ingest/submission.service.js';
import { idParam, submissionListQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf, scopeInstitution, visibleOrNotFound } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Reads an uploaded file into raw observations; CSV now, spreadsheets refused with a clear code. */
function readFile(
  file: Express.Multer.File,
  deps: AppDeps,
): { observations: RawObservation[]; meta: UploadMeta } {
  const bytes = file.buffer;
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new AppError(
      415,
      'unsupported_format',
      'XLSX uploads are not accepted yet; save the sheet as CSV (UTF-8 or GBK)',
    );
  }
  const charset = /charset=([^;]+)/i.exec(file.mimetype)?.[1];
  const { text } = decodeText(bytes, charset);
  const parsed = parseCsv(text, deps.rules.current().catalog);
  if (parsed.errors.length > 0) {
    throw AppError.unprocessable(
      'validation_failed',
      `The file has ${parsed.errors.length} error(s); nothing was stored`,
      parsed.errors,
    );
  }
  return {
    observations: parsed.observations,
    meta: {
      fileName: file.originalname || null,
      bytes,
      format: parsed.layout === 'wide' ? 'csv-wide' : 'csv-long',
      rowCount: parsed.rowCount,
    },
  };
}

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
    let observations: RawObservation[];
    let meta: UploadMeta;
    try {
      if (req.file) {
        ({ observations, meta } = readFile(req.file, deps));
      } else if (req.is('application/json')) {
        const parsed = parseJsonUpload(req.body);
        if (parsed.errors.length > 0)
          throw AppError.unprocessable(
            'validation_failed',
            'The JSON body is invalid; nothing was stored',
            parsed.errors,
          );
        observations = parsed.observations;
        meta = {
          fileName: null,
          bytes: Buffer.from(JSON.stringify(req.body)),
          format: 'json',
          rowCount: observations.length,
        };
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
      observations,
      meta,
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
