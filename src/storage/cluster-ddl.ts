/**
 * CREATE TABLE text for where the tables live: one node (a ClickHouse server, or chDB in
 * process), or every node of a ClickHouse cluster.
 *
 * On one node a table is what its spec says, a (Replacing)MergeTree, exactly as before clusters.
 *
 * On a cluster, a table meant to be spread over the shards ('sharded') becomes two:
 * - `<name>_local`, created ON CLUSTER as Replicated(Replacing)MergeTree with the same columns,
 *   indexes, partitioning, sort key, TTL and settings: one shard's rows, on each of its replicas;
 * - `<name>`, created ON CLUSTER as a Distributed table over the `_local` tables, so the
 *   consumer's inserts and the API's queries name the same table as on one node and do not change.
 * A bookkeeping table every node must read locally ('everywhere') is one replicated table holding
 * the same rows on every node of the cluster, all shards included.
 *
 * Insert deduplication (a batch re-inserted with the same token after a crash is dropped) holds
 * in both layouts: MergeTree needs non_replicated_deduplication_window, Replicated*MergeTree
 * keeps its block ids in Keeper under replicated_deduplication_window (both set to the same
 * size). Through a Distributed table the token travels with each shard's part of the batch, so
 * each `_local` table drops a repeat of its own part. That needs the part to be the same rows
 * on the retry, hence sharding keys computed from row content, never rand(): a retried batch
 * must split over the shards exactly as the first attempt did.
 *
 * Cluster requirements (ClickHouse configuration, not made here): the cluster in remote_servers
 * with internal_replication = true (the replicated table copies rows between replicas; the
 * Distributed table writes each row to one replica), the macros {shard} and {replica} on every
 * node, and Keeper or ZooKeeper. The Distributed table must keep the default of sending each
 * pending insert on its own (distributed_background_insert_batch = 0): batching several
 * pending inserts into one would merge parts of different batches under one token.
 */

export interface DdlTarget {
  /** Cluster name (ClickHouse remote_servers); unset: one node. Goes into DDL text, so an identifier only. */
  cluster?: string;
}

/** Where a table's rows live on a cluster. */
export type Placement =
  /** Spread over the shards by `shardingKey` (an expression over the row's columns), each shard replicated. */
  | { kind: 'sharded'; shardingKey: string }
  /** The same rows on every node: small bookkeeping every node reads locally (the migrations table). */
  | { kind: 'everywhere' };

export type DedupWindowSetting = 'non_replicated_deduplication_window' | 'replicated_deduplication_window';

export interface TableSpec {
  name: string;
  /** Column and index definitions: the text between CREATE TABLE's parentheses. */
  body: string;
  /** The single-node engine; Replicated<engine> on a cluster. Both take no arguments here. */
  engine: 'MergeTree' | 'ReplacingMergeTree';
  /** Engine arguments (ReplacingMergeTree's version column); the replicated engine takes them after its path and replica. */
  engineArgs?: string[];
  partitionBy?: string;
  orderBy: string;
  ttl?: string;
  /** The SETTINGS text, given the name of the deduplication window setting the engine reads. */
  settings: (dedupWindow: DedupWindowSetting) => string;
  placement: Placement;
}

export const LOCAL_SUFFIX = '_local';

/** Cluster and table names go into DDL text: identifier characters only, as ClickHouse spells them unquoted. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function checkClusterName(cluster: unknown): string {
  if (typeof cluster !== 'string' || !IDENTIFIER.test(cluster)) {
    throw new Error(
      `cluster: expected a ClickHouse cluster name of letters, digits and _ (not starting with a digit, at most 64), got ${JSON.stringify(cluster)}`,
    );
  }
  return cluster;
}

function checkTableName(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`table name must match ${IDENTIFIER}, got ${JSON.stringify(name)}`);
  return name;
}

/** Everything after the engine: partitioning, sort key, TTL, settings (one clause a line). */
function tail(spec: TableSpec, dedupWindow: DedupWindowSetting): string {
  return (
    (spec.partitionBy !== undefined ? `PARTITION BY ${spec.partitionBy}\n` : '') +
    `ORDER BY ${spec.orderBy}\n` +
    (spec.ttl !== undefined ? `TTL ${spec.ttl}\n` : '') +
    `SETTINGS ${spec.settings(dedupWindow)}`
  );
}

/**
 * Replicated engine arguments. A sharded table's replicas share one Keeper path per shard
 * ({shard}); an 'everywhere' table's replicas are every node, so one path for the cluster and
 * a replica name unique across it ({shard}-{replica}: replica names often repeat across shards).
 * {database} is the table's database: an ON CLUSTER query is run on every node in the
 * database of the session that sent it.
 */
function replicatedEngine(spec: TableSpec, table: string): string {
  const [path, replica] =
    spec.placement.kind === 'sharded'
      ? [`/clickhouse/tables/{shard}/{database}/${table}`, '{replica}']
      : [`/clickhouse/tables/all/{database}/${table}`, '{shard}-{replica}'];
  return `Replicated${spec.engine}(${[`'${path}'`, `'${replica}'`, ...(spec.engineArgs ?? [])].join(', ')})`;
}

/** The statements creating one table for the target, in the order they must run. Idempotent (IF NOT EXISTS). */
export function createTableStatements(spec: TableSpec, target: DdlTarget = {}): string[] {
  const name = checkTableName(spec.name);
  if (target.cluster === undefined) {
    const engine = spec.engineArgs?.length ? `${spec.engine}(${spec.engineArgs.join(', ')})` : spec.engine;
    return [`CREATE TABLE IF NOT EXISTS ${name} (${spec.body}\n) ENGINE = ${engine}\n${tail(spec, 'non_replicated_deduplication_window')}`];
  }
  const onCluster = `ON CLUSTER '${checkClusterName(target.cluster)}'`;
  if (spec.placement.kind === 'everywhere') {
    return [
      `CREATE TABLE IF NOT EXISTS ${name} ${onCluster} (${spec.body}\n) ENGINE = ${replicatedEngine(spec, name)}\n${tail(spec, 'replicated_deduplication_window')}`,
    ];
  }
  const local = checkTableName(`${name}${LOCAL_SUFFIX}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${local} ${onCluster} (${spec.body}\n) ENGINE = ${replicatedEngine(spec, local)}\n${tail(spec, 'replicated_deduplication_window')}`,
    // `AS` copies the columns (types, codecs, defaults) but not the indexes, which only MergeTree
    // tables have. In ON CLUSTER DDL, currentDatabase() is replaced by the sender's database
    // before the query reaches the nodes, so every node points at its own copy of that database.
    `CREATE TABLE IF NOT EXISTS ${name} ${onCluster} AS ${local}\n` +
      `ENGINE = Distributed('${target.cluster}', currentDatabase(), '${local}', ${spec.placement.shardingKey})`,
  ];
}

/**
 * An ALTER of a sharded table: on one node the table itself; on a cluster its `_local` tables,
 * then (when there is a clause for it) the Distributed tables, ON CLUSTER.
 */
function alterShardedStatements(table: string, clause: string, distributedClause: string | null, target: DdlTarget): string[] {
  const name = checkTableName(table);
  if (target.cluster === undefined) return [`ALTER TABLE ${name} ${clause}`];
  const onCluster = `ON CLUSTER '${checkClusterName(target.cluster)}'`;
  const local = `ALTER TABLE ${checkTableName(`${name}${LOCAL_SUFFIX}`)} ${onCluster} ${clause}`;
  return distributedClause === null ? [local] : [local, `ALTER TABLE ${name} ${onCluster} ${distributedClause}`];
}

/**
 * `ALTER TABLE ... MODIFY SETTING` of a sharded table's MergeTree settings: the table itself on
 * one node, its `_local` tables ON CLUSTER (the Distributed table has no MergeTree settings).
 */
export function modifySettingsStatement(table: string, settings: ReadonlyArray<readonly [string, number]>, target: DdlTarget = {}): string {
  if (settings.length === 0) throw new Error(`modifySettingsStatement: no settings for ${checkTableName(table)}`);
  const list = settings
    .map(([key, value]) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(key) || !Number.isFinite(value)) throw new Error(`modifySettingsStatement: bad setting ${key} = ${value}`);
      return `${key} = ${value}`;
    })
    .join(', ');
  return alterShardedStatements(table, `MODIFY SETTING ${list}`, null, target)[0];
}

/**
 * `ALTER TABLE ... DROP INDEX IF EXISTS` of a sharded table's skip indexes: the table itself on
 * one node, its `_local` tables ON CLUSTER (a Distributed table has no indexes). Idempotent.
 */
export function dropIndexesStatement(table: string, indexes: readonly string[], target: DdlTarget = {}): string {
  if (indexes.length === 0) throw new Error(`dropIndexesStatement: no indexes for ${checkTableName(table)}`);
  for (const index of indexes) if (!IDENTIFIER.test(index)) throw new Error(`dropIndexesStatement: bad index name ${JSON.stringify(index)}`);
  return alterShardedStatements(table, indexes.map((index) => `DROP INDEX IF EXISTS ${index}`).join(', '), null, target)[0];
}

/** A column added to an existing table, with a skip index over it. */
export interface AddedColumn {
  /** The column's definition as in CREATE TABLE (name, type, DEFAULT, CODEC). */
  column: string;
  /** Its definition on a Distributed table (no codec: that table stores nothing). */
  distributedColumn: string;
  /** The index definition as in CREATE TABLE, without the INDEX keyword. */
  index: string;
}

/** `ALTER TABLE ... ADD COLUMN` (and its index) of a sharded table, Distributed tables included. Idempotent. */
export function addColumnStatements(table: string, added: AddedColumn, target: DdlTarget = {}): string[] {
  return alterShardedStatements(
    table,
    `ADD COLUMN IF NOT EXISTS ${added.column}, ADD INDEX IF NOT EXISTS ${added.index}`,
    `ADD COLUMN IF NOT EXISTS ${added.distributedColumn}`,
    target,
  );
}

/** A column's new type, as `name type` (the codec is given apart: a Distributed table has none). */
export interface RetypedColumn {
  name: string;
  type: string;
  codec: string;
}

/**
 * `ALTER TABLE ... MODIFY COLUMN` of a sharded table's columns to new types, Distributed tables
 * included. ClickHouse rewrites the parts in the background (a mutation); until then it
 * converts on read.
 */
export function modifyColumnsStatements(table: string, columns: readonly RetypedColumn[], target: DdlTarget = {}): string[] {
  if (columns.length === 0) throw new Error(`modifyColumnsStatements: no columns for ${checkTableName(table)}`);
  for (const c of columns) if (!IDENTIFIER.test(c.name)) throw new Error(`modifyColumnsStatements: bad column name ${JSON.stringify(c.name)}`);
  return alterShardedStatements(
    table,
    columns.map((c) => `MODIFY COLUMN ${c.name} ${c.type} ${c.codec}`).join(', '),
    columns.map((c) => `MODIFY COLUMN ${c.name} ${c.type}`).join(', '),
    target,
  );
}
