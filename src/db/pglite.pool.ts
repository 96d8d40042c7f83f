import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient } from 'kysely';

/**
 * Presents one PGlite instance as a `pg`-style pool of size one, so Kysely's own PostgresDialect
 * drives it. PGlite is a single connection: a client is lent to one caller at a time and the rest
 * queue, which keeps transactions from interleaving.
 */
export class PGlitePool implements PostgresPool {
  #queue: Array<() => void> = [];
  #busy = false;

  constructor(private readonly pglite: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    if (this.#busy) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#busy = true;
    let released = false;
    // Kysely calls only the (sql, parameters) overload; cursors are never requested.
    const query = async (sql: string, parameters: ReadonlyArray<unknown>) => {
      const result = await this.pglite.query(sql, parameters as unknown[]);
      return { command: result.command ?? 'SELECT', rowCount: result.affectedRows ?? 0, rows: result.rows };
    };
    return {
      query: query as PostgresPoolClient['query'],
      release: () => {
        if (released) return;
        released = true;
        const next = this.#queue.shift();
        if (next) next();
        else this.#busy = false;
      },
    };
  }

  async end(): Promise<void> {
    await this.pglite.close();
  }
}
