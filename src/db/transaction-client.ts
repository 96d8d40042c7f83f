import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';

/**
 * The `pg` client a transaction runs on, for the one thing Kysely cannot send: `COPY … FROM STDIN`.
 * Kysely does not expose a transaction's connection, so the pool given to it records the first client
 * it hands out inside {@link withTransactionClient}; on PGlite nothing is recorded.
 */
const slot = new AsyncLocalStorage<{ client?: pg.PoolClient }>();

/** Runs `work` (which opens one transaction) so that {@link transactionClient} can find its client. */
export function withTransactionClient<T>(work: () => Promise<T>): Promise<T> {
  return slot.run({}, work);
}

/** The client of the transaction opened inside {@link withTransactionClient}, on PostgreSQL. */
export function transactionClient(): pg.PoolClient | undefined {
  return slot.getStore()?.client;
}

/** Wraps a pool so that clients handed out inside {@link withTransactionClient} are recorded. */
export function recordingPool(pool: pg.Pool): { connect(): Promise<pg.PoolClient>; end(): Promise<void> } {
  return {
    connect: async () => {
      const client = await pool.connect();
      const store = slot.getStore();
      if (store && !store.client) store.client = client;
      return client;
    },
    end: () => pool.end(),
  };
}
