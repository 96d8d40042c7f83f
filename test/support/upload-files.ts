import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Principal } from '../../src/auth/api-key.js';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import { ObservationCollector } from '../../src/ingest/observation.validator.js';
import { readObservations } from '../../src/ingest/table.observations.js';
import { inspectFile, readTableBatches, type TableLimits } from '../../src/ingest/upload.file.js';

/** A temporary folder removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-test-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const ADMIN: Principal = { keyId: 'k', name: 'admin', role: 'admin', institution: null, email: null };

/**
 * Reads a file through the production readers (inspection, decoding, CSV/XLSX, header detection) and
 * returns the raw observations and problems, with every institution code accepted as a rural bank.
 */
export async function readFileObservations(
  filePath: string,
  catalog: Catalog,
  options: { sheet?: string; limits?: TableLimits; charset?: string } = {},
) {
  const file = { path: filePath, name: path.basename(filePath), charset: options.charset };
  const inspection = await inspectFile(file);
  const seen: RawObservation[] = [];
  const institutions = new Proxy(new Map(), {
    get(target, prop) {
      if (prop === 'get') return (code: string) => ({ code, type: 'rural_commercial_bank' });
      return Reflect.get(target, prop);
    },
  });
  const collector = new ObservationCollector({ catalog, institutions, principal: ADMIN });
  const original = collector.add.bind(collector);
  collector.add = (obs: RawObservation) => {
    seen.push(obs);
    original(obs);
  };
  const rows = readTableBatches(file, inspection, {
    sheet: options.sheet,
    limits: options.limits ?? { maxRows: 1_000_000, maxColumns: 1000 },
  });
  const read = await readObservations(rows, catalog, collector, options.limits?.maxValues);
  return { inspection, ...read, observations: seen, problems: collector.problems };
}
