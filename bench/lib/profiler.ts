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
 * result, by statement label such as `insert observations` or `raw`. Install with `db.withPlugin(p)`;
 * transactions opened from that handle inherit it.
 */
export class StatementProfiler implements KyselyPlugin {
  readonly stats = new Map<string, StatementStats>();
  readonly #started = new Map<unknown, { label: string; at: number }>();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#started.set(args.queryId, { label: labelOf(args.node), at: performance.now() });
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const started = this.#started.get(args.queryId);
    if (started) {
      this.#started.delete(args.queryId);
      const s = this.stats.get(started.label) ?? { count: 0, ms: 0 };
      s.count++;
      s.ms += performance.now() - started.at;
      this.stats.set(started.label, s);
    }
    return args.result;
  }

  reset(): void {
    this.stats.clear();
    this.#started.clear();
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
      return text.includes('pg_advisory_xact_lock') ? 'advisory lock' : 'raw sql';
    }
    default:
      return node.kind;
  }
}
