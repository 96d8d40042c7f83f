import { AppError } from '../http/app-error.js';
import { parseJsonUpload } from './json.parser.js';
import type { RawObservation } from './observation.types.js';

/** A JSON upload read into raw observations, with what the receipt says about it. */
export interface JsonUpload {
  readonly observations: RawObservation[];
  readonly meta: { fileName: null; bytes: Uint8Array; format: 'json'; rowCount: number };
}

/**
 * Reads a JSON upload (`{institution, period, values}` or an array of them).
 * @throws AppError 422 listing every problem with its path.
 */
export function readJsonUpload(body: unknown): JsonUpload {
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
      // The canonical serialisation identifies the content: the same body sent again is a replay.
      bytes: Buffer.from(JSON.stringify(body)),
      format: 'json',
      rowCount: parsed.observations.length,
    },
  };
}
