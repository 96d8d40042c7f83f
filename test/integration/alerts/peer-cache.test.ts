import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPeers } from '../../../src/alerts/observation.window.js';
import { PeerCache } from '../../../src/alerts/peer.cache.js';
import type { Principal } from '../../../src/auth/api-key.js';
import type { Database } from '../../../src/db/schema.js';
import { submitObservations } from '../../../src/ingest/submission.service.js';
import { saveInstitutions } from '../../../src/institutions/institution.service.js';
import type { LoadedRules } from '../../../src/rules/rules.runtime.js';
import { shippedRules } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const admin: Principal = { keyId: 'k', name: 'tester', role: 'admin', institution: null, email: null };
const BANKS = ['P1', 'P2', 'P3', 'P4', 'P5'];
const PERIOD = '2024-03';
const NOW = new Date(Date.UTC(2024, 3, 20));
const ARGS = [['npl_ratio'], [PERIOD], ['rural_commercial_bank']] as const;

class RollBack extends Error {}

function upload(t: TestDatabase, rules: LoadedRules, bank: string, npl: number) {
  const rows: [string, number][] = [
    ['npl_balance', npl * 100],
    ['total_loans', 10_000],
  ];
  return submitObservations(
    { db: t.db, snapshot: () => rules },
    rows.map(([metric, value], i) => ({
      institution: { text: bank, row: i + 2, field: 'institution' },
      period: { text: PERIOD, row: i + 2, field: 'period' },
      metric: { text: metric, row: i + 2, field: 'metric' },
      value: { text: String(value), row: i + 2, field: 'value' },
    })),
    { fileName: null, bytes: Buffer.from(`${bank}${npl}`), format: 'json', rowCount: rows.length },
    admin,
    NOW,
  );
}

/** The NPL ratios a set of peers holds, by institution (derived from the balances: to 6 decimals). */
function ratios(peers: { observations: readonly { institution: string; value: number }[] }) {
  return Object.fromEntries(peers.observations.map((o) => [o.institution, Number(o.value.toFixed(6))]));
}

/**
 * A new version of a bank's NPL ratio written as an upload writes it (the old version superseded, the
 * new one current), in the caller's transaction: an upload's own version, not yet committed.
 */
async function newVersionIn(trx: Kysely<Database>, bank: string, npl: number) {
  const upload = await trx
    .insertInto('uploads')
    .values({
      file_name: null,
      file_sha256: 'y'.repeat(64),
      format: 'json',
      row_count: 1,
      uploaded_by: 'test',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const old = await trx
    .updateTable('submissions')
    .set({ is_current: false })
    .where('institution_code', '=', bank)
    .where('period', '=', PERIOD)
    .where('is_current', '=', true)
    .returning('version')
    .executeTakeFirstOrThrow();
  const created = await trx
    .insertInto('submissions')
    .values({ upload_id: upload.id, institution_code: bank, period: PERIOD, version: old.version + 1 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('observations')
    .values({
      submission_id: created.id,
      institution_code: bank,
      period: PERIOD,
      metric: 'npl_ratio',
      value: npl,
      derived: false,
    })
    .execute();
}

describe('the peer cache', () => {
  let t: TestDatabase;
  let rules: LoadedRules;
  let cache: PeerCache;
  const peers = (db: Kysely<Database>, except: string[] = []) => cache.peers(db, ...ARGS, new Set(except));

  /** The banks registered, each filing an NPL ratio of `from` + 0.1 × its rank. */
  const fileBanks = async (on: TestDatabase, from: number) => {
    await saveInstitutions(
      on.db,
      rules.catalog,
      BANKS.map((code) => ({
        code,
        name: `${code} 农商行`,
        type: 'rural_commercial_bank',
        county: '南安市',
      })),
      'test',
    );
    for (const [i, bank] of BANKS.entries()) await upload(on, rules, bank, from + i / 10);
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    rules = shippedRules();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.truncate();
    cache = new PeerCache();
    await fileBanks(t, 1);
  });

  it('serves the same set again while nothing changed, equal to what is read afresh', async () => {
    const first = await peers(t.db);
    const second = await peers(t.db);
    expect(first.source).toBe('read');
    expect(second.source).toBe('cache');
    expect(second.peers).toBe(first.peers);
    const fresh = await loadPeers(t.db, ...ARGS);
    expect(ratios(second.peers)).toEqual(ratios(fresh));
    expect(ratios(second.peers)).toEqual({ P1: 1, P2: 1.1, P3: 1.2, P4: 1.3, P5: 1.4 });
  });

  it('refreshes what another institution filed since: a new version, a first filing', async () => {
    await saveInstitutions(
      t.db,
      rules.catalog,
      [{ code: 'P6', name: 'P6 农商行', type: 'rural_commercial_bank', county: '南安市' }],
      'test',
    );
    await peers(t.db);
    await upload(t, rules, 'P2', 3.5);
    await upload(t, rules, 'P6', 2.2);
    const after = await peers(t.db, ['P1']);
    expect(after.source).toBe('refreshed');
    expect(ratios(after.peers)).toEqual(ratios(await loadPeers(t.db, ...ARGS)));
    expect(ratios(after.peers)).toMatchObject({ P2: 3.5, P6: 2.2 });
    expect((await peers(t.db)).source).toBe('cache');
  });

  it('keeps the set for an upload whose own new version is not yet committed, and for no one else', async () => {
    await peers(t.db);
    await t.db
      .transaction()
      .execute(async (trx) => {
        await newVersionIn(trx, 'P3', 4.4);
        // The institution judged is left out of the comparison: its new version is not a peer.
        expect((await peers(trx, ['P3'])).source).toBe('cache');
        // Judging another institution in that transaction, P3's new version is a peer.
        const other = await peers(trx, ['P1']);
        expect(other.source).toBe('refreshed');
        expect(ratios(other.peers).P3).toBe(4.4);
        throw new RollBack();
      })
      .catch((e: unknown) => {
        if (!(e instanceof RollBack)) throw e;
      });
    // That set holds P3's version, written by a transaction that rolled back: P3 is read again.
    const after = await peers(t.db);
    expect(after.source).toBe('refreshed');
    expect(ratios(after.peers).P3).toBe(1.2);
  });

  it('reads the judged institution again after its transaction rolled back', async () => {
    await peers(t.db);
    await upload(t, rules, 'P2', 3.5);
    await t.db
      .transaction()
      .execute(async (trx) => {
        await newVersionIn(trx, 'P3', 4.4);
        // P2's committed version is refreshed; P3's own, read with it, is marked tentative.
        expect((await peers(trx, ['P3'])).source).toBe('refreshed');
        throw new RollBack();
      })
      .catch((e: unknown) => {
        if (!(e instanceof RollBack)) throw e;
      });
    const after = await peers(t.db);
    expect(after.source).toBe('refreshed');
    expect(ratios(after.peers)).toEqual({ P1: 1, P2: 3.5, P3: 1.2, P4: 1.3, P5: 1.4 });
  });

  // Two connections at once: PostgreSQL only (PGlite has one).
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'reads whole when a version made before the set was read commits after it (a smaller id)',
    async () => {
      // A version inserted (id taken) but not committed while the set is read...
      const client = await t.db.connection().execute(async (conn) => {
        await sql`BEGIN`.execute(conn);
        await newVersionIn(conn, 'P4', 6.6);
        // ...another institution files, with a larger id, and the set is read (largest id seen: P5's)...
        await upload(t, rules, 'P5', 1.9);
        await peers(t.db);
        await sql`COMMIT`.execute(conn);
        return true;
      });
      expect(client).toBe(true);
      // ...then P4 commits: no id above the largest seen, the check fails, the set is read whole.
      const after = await peers(t.db);
      expect(after.source).toBe('read');
      expect(ratios(after.peers)).toMatchObject({ P4: 6.6, P5: 1.9 });
    },
  );

  it('reads again once an institution changed (type, county or attributes)', async () => {
    await peers(t.db);
    await saveInstitutions(
      t.db,
      rules.catalog,
      [{ code: 'P4', name: 'P4 村镇银行', type: 'village_bank', county: '南安市' }],
      'test',
    );
    const after = await peers(t.db);
    expect(after.source).toBe('read');
    expect(Object.keys(ratios(after.peers)).sort()).toEqual(['P1', 'P2', 'P3', 'P5']);
  });

  it('never takes one database’s set for another’s with the same rows', async () => {
    const other = await createTestDatabase();
    try {
      await fileBanks(other, 2);
      await peers(t.db);
      const there = await peers(other.db);
      expect(there.source).toBe('read');
      expect(ratios(there.peers).P1).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('keeps nothing when the epoch row is gone', async () => {
    await sql`DELETE FROM change_epochs`.execute(t.db);
    try {
      await peers(t.db);
      expect((await peers(t.db)).source).toBe('read');
    } finally {
      await sql`INSERT INTO change_epochs DEFAULT VALUES`.execute(t.db);
    }
  });
});
