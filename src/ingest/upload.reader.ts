import type { Catalog } from '../catalog/catalog.js';
import { AppError } from '../http/app-error.js';
import { parseCsv } from './csv.parser.js';
import { decodeText } from './decode.js';
import { parseJsonUpload } from './json.parser.js';
import type { RawObservation } from './observation.types.js';
import type { UploadMeta } from './submission.service.js';

/** An upload read into raw observations, with what the receipt and the audit log say about it. */
export interface ReadUpload {
  readonly observations: RawObservation[];
  readonly meta: UploadMeta;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * Reads an uploaded file: CSV in the long or wide layout, UTF-8 or GB18030 (or a declared charset).
 * @throws AppError 415 for a spreadsheet (XLSX is a zip), 422 listing every layout problem.
 */
export function readFileUpload(
  bytes: Uint8Array,
  fileName: string | null,
  catalog: Catalog,
  charset?: string,
): ReadUpload {
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new AppError(
      415,
      'unsupported_format',
      'XLSX uploads are not accepted yet; save the sheet as CSV (UTF-8 or GBK)',
    );
  }
  const parsed = parseCsv(decodeText(bytes, charset).text, catalog);
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
      fileName,
      bytes,
      format: parsed.layout === 'wide' ? 'csv-wide' : 'csv-long',
      rowCount: parsed.rowCount,
    },
  };
}

/**
 * Reads a JSON upload (`{institution, period, values}` or an array of them).
 * @throws AppError 422 listing every problem with its path.
 */
export function readJsonUpload(body: unknown): ReadUpload {
  const parsed = parseJsonUpload(body);
  if (parsed.errors.length > 0) {
    throw AppError.unprocessable(
      'validation_failed',
      'The JSON body is invalid; nothing was stored',
      parsed.errors,
    );
  }
  return {
    observations: parsed.observations,
    meta: {
      fileName: null,
      bytes: Buffer.from(JSON.stringify(body)),
      format: 'json',
      rowCount: parsed.observations.length,
    },
  };
}
