import fs from 'node:fs';
import path from 'node:path';
import { type RequestHandler, Router } from 'express';
import multer from 'multer';
import { recordAudit } from '../../audit/audit.repository.js';
import { explainUpload, findReceipt, type UploadReceipt } from '../../ingest/receipt.js';
import { findSubmission, listSubmissions } from '../../ingest/submission.repository.js';
import {
  ingestFile,
  type SubmissionDeps,
  type SubmissionObserver,
  submitObservations,
} from '../../ingest/submission.service.js';
import { readJsonUpload } from '../../ingest/upload.reader.js';
import { explanationBody, idParam, submissionListQuery, uploadQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf, scopeInstitution, visibleOrNotFound } from '../auth.middleware.js';
import { parseBody, parseQuery } from '../validate.js';

/**
 * Removes upload files a crashed process left behind. Each request removes its own file; only files
 * older than an hour are swept, since another replica may share the folder and be reading one now.
 */
function sweepStaleUploads(dir: string, maxAgeMs = 60 * 60_000): void {
  const cutoff = Date.now() - maxAgeMs;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const file = path.join(dir, name);
    try {
      if (fs.statSync(file).mtimeMs < cutoff) fs.rmSync(file, { force: true });
    } catch {
      // Gone already, or removed by another replica's sweep.
    }
  }
}

/** A receipt with the submission's id and version on top when the upload made exactly one, as a single upload's answer reads. */
function withSubmissionId(receipt: UploadReceipt) {
  const only = receipt.submissions_total === 1 ? receipt.submissions[0] : undefined;
  return { ...(only ? { id: only.id, version: only.version } : {}), ...receipt };
}

/** Submissions: institutions, supervisors and admins upload; everyone reads what their role allows. */
export function submissionsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const { config } = deps;
  // Files go to disk, not memory: a bulk import is read as a stream and memory stays flat.
  const uploadDir = path.join(config.dataDir, 'tmp', 'uploads');
  sweepStaleUploads(uploadDir);
  const multipart = multer({
    dest: uploadDir,
    // Browsers and HTTP clients send a file name as raw UTF-8 (RFC 7578); busboy would read it as latin1.
    defParamCharset: 'utf8',
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, parts: 12, fieldSize: 64 * 1024 },
  }).single('file');
  const receiveFile: RequestHandler = (req, res, next) =>
    multipart(req, res, (error?: unknown) => {
      if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') {
        const message = `The file exceeds ${config.maxUploadBytes} bytes (MAX_UPLOAD_BYTES)`;
        next(
          new AppError(413, 'file_too_large', message, [
            {
              code: 'file_too_large',
              message,
              limit: { name: 'MAX_UPLOAD_BYTES', value: config.maxUploadBytes },
            },
          ]),
        );
        return;
      }
      next(error);
    });
  const observer: SubmissionObserver = {
    accepted: () => deps.metrics.submissions.inc({ result: 'accepted' }),
    rejected: (codes) => {
      deps.metrics.submissions.inc({ result: 'rejected' });
      for (const code of new Set(codes)) deps.metrics.validationErrors.inc({ code });
    },
    evaluated: (seconds, health) => deps.metrics.recordEvaluation(seconds, health, deps.clock()),
  };
  const ingestDeps: SubmissionDeps = {
    db: deps.db,
    snapshot: () => deps.rules.current(),
    observer,
    logger: deps.logger,
  };

  router.post(
    '/submissions',
    guard(['admin', 'supervisor', 'institution']),
    receiveFile,
    async (req, res) => {
      const principal = principalOf(req);
      const query = parseQuery(uploadQuery, req.query);
      const field = (name: string) => {
        const v = (req.body as Record<string, unknown> | undefined)?.[name];
        return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
      };
      let receipt: Awaited<ReturnType<typeof ingestFile>>;
      if (req.file) {
        const file = req.file;
        try {
          receipt = await ingestFile(
            ingestDeps,
            {
              path: file.path,
              name: file.originalname || null,
              // multer keeps only type/subtype of the part's Content-Type, so the charset comes as a
              // parameter or form field (a parameter on the part is honoured if a client's library keeps it).
              charset: query.charset ?? field('charset') ?? /charset=([^;]+)/i.exec(file.mimetype)?.[1],
            },
            principal,
            deps.clock(),
            {
              sheet: query.sheet ?? field('sheet'),
              explanation: field('explanation'),
              limits: config.uploadLimits,
            },
          );
        } finally {
          await fs.promises.rm(file.path, { force: true });
        }
      } else if (req.is('application/json')) {
        const upload = (() => {
          try {
            return readJsonUpload(req.body);
          } catch (error) {
            if (error instanceof AppError) observer.rejected(error.errors.map((e) => e.code));
            throw error;
          }
        })();
        receipt = await submitObservations(
          ingestDeps,
          upload.observations,
          upload.meta,
          principal,
          deps.clock(),
        );
      } else {
        throw AppError.badRequest(
          'missing_file',
          'Send a multipart form with a "file" field, or a JSON body',
        );
      }
      // Alert changes and the uploader's receipt e-mail were queued with the upload: send them now.
      if (!receipt.replayed && (receipt.alerts.length > 0 || principal.email)) deps.notificationsQueued?.();
      const only = receipt.submissions.length === 1 ? receipt.submissions[0] : undefined;
      res
        .status(receipt.replayed ? 200 : 201)
        .location(`/api/v1/uploads/${receipt.upload_id}`)
        .json({ ...(only ? { id: only.id, version: only.version } : {}), ...receipt });
    },
  );

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

  /** An institution key sees the receipts of uploads about its own institution only. */
  const visibleReceipt = async (req: Parameters<RequestHandler>[0], id: number) => {
    const principal = principalOf(req);
    const found = await findReceipt(deps.db, id);
    if (
      !found ||
      (principal.role === 'institution' && !found.institutions.every((i) => i === principal.institution))
    ) {
      throw AppError.notFound(`Upload ${id}`);
    }
    return found;
  };

  router.get('/uploads/:id', guard(['admin', 'supervisor', 'institution']), async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    res.json(withSubmissionId((await visibleReceipt(req, id)).receipt));
  });

  router.post('/uploads/:id/explanation', guard(['admin', 'supervisor', 'institution']), async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const { explanation } = parseBody(explanationBody, req.body);
    await visibleReceipt(req, id);
    const principal = principalOf(req);
    await deps.db.transaction().execute(async (trx) => {
      await explainUpload(trx, id, explanation, principal.name, deps.clock());
      await recordAudit(trx, {
        actor: principal.name,
        action: 'uploads.explain',
        target: String(id),
        details: { upload_id: id, key_id: principal.keyId },
      });
    });
    res.json(withSubmissionId((await visibleReceipt(req, id)).receipt));
  });

  return router;
}
