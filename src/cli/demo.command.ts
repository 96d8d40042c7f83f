import type { Principal } from '../auth/api-key.js';
import { latestEndedMonth } from '../catalog/calendar.js';
import { buildDemoData } from '../demo/demo.data.js';
import type { RawObservation } from '../ingest/observation.types.js';
import { submitObservations } from '../ingest/submission.service.js';
import { saveInstitutions } from '../institutions/institution.service.js';
import type { Services } from '../service.js';

const DEMO_PRINCIPAL: Principal = {
  keyId: 'demo',
  name: 'demo-loader',
  role: 'admin',
  institution: null,
  email: null,
};

/**
 * Loads the demo sample: institutions across Quanzhou's counties and 24 months of filings ending
 * last month, through the same validation and evaluation path as real uploads. Idempotent: loading twice
 * replays the same files and writes nothing new.
 */
export async function loadDemo(
  services: Services,
): Promise<{ institutions: number; submissions: number; alerts: number }> {
  const now = services.clock();
  const data = buildDemoData(latestEndedMonth(now, services.config.timeZone));
  const { catalog } = services.rules.current();
  await saveInstitutions(services.db, catalog, data.institutions, DEMO_PRINCIPAL.name);
  let submissions = 0;
  let alerts = 0;
  // One upload per institution, as each institution would file its own history.
  for (const institution of data.institutions) {
    const rows = data.observations.filter((o) => o.institution === institution.code);
    const raw: RawObservation[] = rows.map((o, i) => ({
      institution: { text: o.institution, row: i + 2, column: 1, field: 'institution' },
      period: { text: o.period, row: i + 2, column: 2, field: 'period' },
      metric: { text: o.metric, row: i + 2, column: 3, field: 'metric' },
      value: { text: String(o.value), row: i + 2, column: 4, field: 'value' },
    }));
    const receipt = await submitObservations(
      { db: services.db, snapshot: () => services.rules.current() },
      raw,
      {
        fileName: `demo-${institution.code}.csv`,
        bytes: Buffer.from(JSON.stringify(rows)),
        format: 'csv-long',
        rowCount: rows.length,
      },
      DEMO_PRINCIPAL,
      now,
    );
    // Loading the demo again replays the same bytes: nothing new is written, nothing is counted.
    if (receipt.replayed) continue;
    submissions += receipt.submissions.length;
    alerts += receipt.alerts.length;
  }
  await services.dispatcher.kick();
  return { institutions: data.institutions.length, submissions, alerts };
}
