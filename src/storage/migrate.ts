/**
 * Applies the schema migrations the store has not seen yet, in version order.
 *
 * Safe to run from several processes at once: every statement is CREATE ... IF NOT EXISTS
 * (so a migration applied twice changes nothing), the version row is inserted with a
 * deduplication token, and the migrations table collapses duplicate versions
 * (ReplacingMergeTree), reading them with DISTINCT.
 *
 * On a cluster (`cluster` set) every statement runs ON CLUSTER, and the migrations table is
 * one replicated table with the same rows on every node, shards included (not a Distributed
 * one): a migrator talking to any node reads the cluster's schema version from that node
 * alone, and Keeper's deduplication drops the version row a second migrator on another node
 * inserts with the same token. A node that has not yet caught up with a version row only makes
 * a migrator run that migration's idempotent statements again.
 */
import { checkClusterName, createTableStatements, type DdlTarget, type TableSpec } from './cluster-ddl.ts';
import { MIGRATIONS, MIGRATIONS_TABLE, type Migration, type RetentionDays, type ServerFacts } from './schema.ts';
import type { Store } from './store.ts';

export interface MigrateLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  /**
   * ClickHouse cluster name (remote_servers): tables become Replicated*MergeTree `<name>_local`
   * ON CLUSTER behind Distributed tables named as on one node. Unset: one node (or chDB).
   */
  cluster?: string;
  /** The migrations to apply; the schema's own by default (tests add their own). */
  migrations?: readonly Migration[];
}

export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** Highest version the store is at after the call. */
  version: number;
}

const MIGRATIONS_TABLE_SPEC: TableSpec = {
  name: MIGRATIONS_TABLE,
  body: `
  version UInt32,
  name String,
  applied_at DateTime64(3) DEFAULT now64(3)`,
  engine: 'ReplacingMergeTree',
  orderBy: 'version',
  settings: (dedupWindow) => `${dedupWindow} = 1000`,
  placement: { kind: 'everywhere' },
};

/** The statements that create the migrations table on the target (exported for the DDL tests). */
export function migrationsTableStatements(target: DdlTarget = {}): string[] {
  return createTableStatements(MIGRATIONS_TABLE_SPEC, target);
}

async function appliedVersions(store: Store): Promise<Set<number>> {
  const rows = await store.query<{ version: number | string }>(`SELECT DISTINCT version FROM ${MIGRATIONS_TABLE}`);
  return new Set(rows.map((r) => Number(r.version)));
}

/** What the migrations ask of the server (on a cluster, the node this connection reaches). */
async function serverFacts(store: Store): Promise<ServerFacts> {
  const rows = await store.query<{ name: string }>('SELECT name FROM system.merge_tree_settings');
  return { mergeTreeSettings: new Set(rows.map((r) => r.name)) };
}

export async function migrate(
  store: Store,
  retention: RetentionDays,
  log?: MigrateLogger,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const target: DdlTarget = options.cluster === undefined ? {} : { cluster: checkClusterName(options.cluster) };
  const ordered = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].version === ordered[i - 1].version) throw new Error(`migrations: version ${ordered[i].version} is defined twice`);
  }
  const server = await serverFacts(store);
  // Builds every statement first so a bad retention fails before anything is created.
  const planned = ordered.map((m) => ({ migration: m, statements: m.statements(retention, target, server) }));

  for (const sql of migrationsTableStatements(target)) await store.command(sql);
  const done = await appliedVersions(store);
  const known = new Set(ordered.map((m) => m.version));
  const unknown = [...done].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    log?.warn({ versions: unknown }, 'store has schema versions this build does not know (a newer build migrated it)');
  }

  const applied: number[] = [];
  for (const { migration, statements } of planned) {
    if (done.has(migration.version)) continue;
    const started = Date.now();
    for (const sql of statements) await store.command(sql);
    await store.insert(MIGRATIONS_TABLE, [{ version: migration.version, name: migration.name }], {
      dedupToken: `migration:${migration.version}`,
    });
    applied.push(migration.version);
    done.add(migration.version);
    log?.info({ version: migration.version, name: migration.name, ms: Date.now() - started }, 'schema migration applied');
  }
  return { applied, version: Math.max(0, ...done) };
}
