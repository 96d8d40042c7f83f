import type {
  KyselyPlugin,
  OperationNode,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

/** Statements seen by a Kysely handle, grouped by kind and table, with their time in the database. */
export interface StatementStats {
  count: number;
  ms: number;
}

/**
 * A Kysely plugin that counts every statement (builder or raw `sql`) and times it from compilation to
 * result, by statement label such as `insert observations` or `advisory lock`. Install with
 * `db.withPlugin(p)`; transactions opened from that handle inherit it.
 *
 * A transaction runs on one connection, which executes statements one after another; statements sent
 * together (`Promise.all`) queue. So a statement's time starts at its compilation or at the previous
 * statement's result, whichever is later, and queued time is not counted twice.
 */
export class StatementProfiler implements KyselyPlugin {
  readonly stats = new Map<string, StatementStats>();
  readonly #started = new Map<unknown, { label: string; at: number }>();
  #lastResult = 0;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#started.set(args.queryId, { label: labelOf(args.node), at: performance.now() });
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const started = this.#started.get(args.queryId);
    if (started) {
      this.#started.delete(args.queryId);
      const s = this.stats.get(started.label) ?? { count: 0, ms: 0 };
      const now = performance.now();
      s.count++;
      s.ms += now - Math.max(started.at, this.#lastResult);
      this.#lastResult = now;
      this.stats.set(started.label, s);
    }
    return args.result;
  }

  reset(): void {
    this.stats.clear();
    this.#started.clear();
    this.#lastResult = 0;
  }

  total(): StatementStats {
    let count = 0;
    let ms = 0;
    for (const s of this.stats.values()) {
      count += s.count;
      ms += s.ms;
    }
    return { count, ms };
  }
}

function tableOf(node: OperationNode | undefined): string {
  if (!node) return '?';
  const n = node as unknown as Record<string, unknown>;
  if (n.kind === 'TableNode') {
    const t = n.table as { identifier?: { name?: string } };
    return t.identifier?.name ?? '?';
  }
  if (n.kind === 'AliasNode') return tableOf(n.node as OperationNode);
  if (n.kind === 'FromNode') return tableOf((n.froms as OperationNode[])[0]);
  return '?';
}

function labelOf(node: RootOperationNode): string {
  const n = node as unknown as Record<string, unknown>;
  switch (node.kind) {
    case 'SelectQueryNode':
      return `select ${tableOf(n.from as OperationNode)}`;
    case 'InsertQueryNode':
      return `insert ${tableOf(n.into as OperationNode)}`;
    case 'UpdateQueryNode':
      return `update ${tableOf(n.table as OperationNode)}`;
    case 'DeleteQueryNode':
      return `delete ${tableOf(n.from as OperationNode)}`;
    case 'RawNode': {
      const text = ((n.sqlFragments as string[]) ?? []).join('?');
      if (text.includes('pg_advisory_xact_lock')) return 'advisory lock';
      const m = /^\s*(update|insert\s+into|delete\s+from)\s+"?(\w+)/i.exec(text);
      return m ? `${(m[1] as string).split(/\s+/)[0]?.toLowerCase()} ${m[2]}` : 'raw sql';
    }
    default:
      return node.kind;
  }
}
