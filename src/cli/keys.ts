import type { Command } from 'commander';
import type { ApiKeyInfo, KeyStore } from '../tenancy/index.ts';
import { CliError } from './errors.ts';

/** Where the command writes; a test passes its own to read the output. */
export interface KeysIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: KeysIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

interface TargetOptions {
  config?: string;
  dataDir?: string;
  redis?: string;
  redisPrefix?: string;
}

interface CreateOptions extends TargetOptions {
  tenant?: string;
  name?: string;
  json?: boolean;
}

interface ListOptions extends TargetOptions {
  tenant?: string;
  json?: boolean;
}

interface RevokeOptions extends TargetOptions {
  json?: boolean;
}

/** The options that choose the store, the same on every subcommand. */
function withStoreOptions(command: Command): Command {
  return command
    .option('-d, --data-dir <dir>', 'data folder of an embedded stack, running or not (default: the configuration dataDir, else ./data)')
    .option('--redis <url>', 'Redis of a distributed deployment, redis://[user:password@]host:port (default: the configuration redis.url)')
    .option('--redis-prefix <prefix>', 'prefix of the Redis keys (default: the configuration redis.keyPrefix, else ollystack:)')
    .option('-c, --config <file>', 'YAML configuration file (default: $OLLYSTACK_CONFIG, else built-in defaults)');
}

/**
 * `ollystack keys create|list|revoke`: API keys kept hashed in the data folder (embedded)
 * or in Redis (distributed); a running stack follows changes within seconds.
 */
export function registerKeysCommand(program: Command, io: KeysIo = processIo): Command {
  const keys = program
    .command('keys')
    .description('manage API keys (kept as SHA-256 hashes in the data folder, or in Redis with --redis)');

  withStoreOptions(
    keys
      .command('create')
      .description("create an API key for a tenant; the key is printed once and can't be shown again")
      .option('-t, --tenant <id>', 'tenant the key gives access to: letters, digits, _ . - (1 to 64)')
      .option('-n, --name <text>', 'what the key is for, shown by `keys list` (1 to 100 characters)')
      .option('--json', 'print the key and its details as JSON'),
  ).action((options: CreateOptions) => runCreate(options, io));

  withStoreOptions(
    keys
      .command('list')
      .description('list API keys (never the keys themselves: their first characters)')
      .option('-t, --tenant <id>', "only this tenant's keys")
      .option('--json', 'print JSON instead of a table'),
  ).action((options: ListOptions) => runList(options, io));

  withStoreOptions(
    keys
      .command('revoke')
      .description('revoke an API key for good; running gateways and APIs refuse it within seconds')
      .argument('<id>', 'id of the key (key_…), as `keys list` shows it')
      .option('--json', 'print the revoked key as JSON'),
  ).action((id: string, options: RevokeOptions) => runRevoke(id, options, io));

  return keys;
}

async function runCreate(options: CreateOptions, io: KeysIo): Promise<void> {
  if (options.tenant === undefined) throw new CliError('--tenant: required, the tenant the key is for');
  if (options.name === undefined) throw new CliError('--name: required, what the key is for (e.g. "ci pipeline")');
  const tenant = options.tenant;
  const name = options.name;
  const created = await withStore(options, (store) => store.create({ tenant, name }));
  const warning = 'This is the only time the key is shown: only its hash is kept. Store it now.\n';
  if (options.json) {
    io.out(JSON.stringify(created, null, 2) + '\n');
    io.err(warning);
    return;
  }
  io.out(`Created API key ${created.id} for tenant '${created.tenant}' (${created.name}):\n\n  ${created.key}\n\n${warning}`);
}

async function runList(options: ListOptions, io: KeysIo): Promise<void> {
  const list = await withStore(options, (store) => store.list(options.tenant));
  if (options.json) {
    io.out(JSON.stringify(list, null, 2) + '\n');
    return;
  }
  if (list.length === 0) {
    io.out(options.tenant === undefined ? 'No API keys.\n' : `No API keys for tenant '${options.tenant}'.\n`);
    return;
  }
  io.out(table(list));
}

async function runRevoke(id: string, options: RevokeOptions, io: KeysIo): Promise<void> {
  const revoked = await withStore(options, (store) => store.revoke(id));
  if (options.json) {
    io.out(JSON.stringify(revoked, null, 2) + '\n');
    return;
  }
  io.out(`Revoked ${revoked.id} (tenant '${revoked.tenant}', ${revoked.name}) at ${shownTime(revoked.revokedAt)}; running services refuse it within seconds.\n`);
}

/** Opens the chosen store, runs one operation, closes it; store errors become messages naming the option. */
async function withStore<T>(options: TargetOptions, operation: (store: KeyStore) => Promise<T>): Promise<T> {
  const tenancy = await import('../tenancy/index.ts');
  const target = await chooseStore(options);
  let store: KeyStore;
  try {
    store =
      target.kind === 'redis'
        ? await tenancy.openRedisKeyStore({ url: target.url, keyPrefix: target.keyPrefix, watch: false })
        : await tenancy.openFileKeyStore({ dataDir: target.dataDir, watch: false });
  } catch (err) {
    throw new CliError(`${target.option}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await operation(store);
  } catch (err) {
    if (err instanceof tenancy.KeyStoreInputError) throw new CliError(`${optionFor(err.field)}: ${err.message.slice(err.field.length + 2)}`, { cause: err });
    throw err;
  } finally {
    await store.close();
  }
}

type StoreTarget = { kind: 'redis'; url: string; keyPrefix?: string; option: string } | { kind: 'file'; dataDir: string; option: string };

/** Options first, then the configuration: --redis or --data-dir, else redis.url, else dataDir. */
async function chooseStore(options: TargetOptions): Promise<StoreTarget> {
  if (options.redis !== undefined && options.dataDir !== undefined) throw new CliError('--redis, --data-dir: give one or the other');
  if (options.redis !== undefined) return { kind: 'redis', url: checkRedisUrl('--redis', options.redis), keyPrefix: options.redisPrefix, option: '--redis' };
  if (options.dataDir !== undefined) {
    if (options.redisPrefix !== undefined) throw new CliError('--redis-prefix: only with a Redis store, not with --data-dir');
    return { kind: 'file', dataDir: options.dataDir, option: '--data-dir' };
  }
  const { loadConfig } = await import('../config/index.ts');
  const config = loadConfig({ file: options.config });
  const { redis } = config;
  if (redis.url) return { kind: 'redis', url: checkRedisUrl('redis.url', redis.url), keyPrefix: options.redisPrefix ?? redis.keyPrefix, option: 'redis.url' };
  if (options.redisPrefix !== undefined) throw new CliError('--redis-prefix: only with a Redis store (--redis or redis.url)');
  return { kind: 'file', dataDir: config.dataDir, option: 'dataDir' };
}

function checkRedisUrl(option: string, url: string): string {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw new CliError(`${option}: expected redis://host:port or rediss://host:port, got '${url}'`);
  return url;
}

const OPTION_OF_FIELD: Record<string, string> = { tenant: '--tenant', name: '--name', id: '<id>' };

function optionFor(field: string): string {
  return OPTION_OF_FIELD[field] ?? field;
}

function shownTime(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 19).replace('T', ' ') + 'Z' : '-';
}

function table(list: ApiKeyInfo[]): string {
  const rows = [
    ['ID', 'TENANT', 'NAME', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
    ...list.map((k) => [k.id, k.tenant, k.name, k.prefix + '…', shownTime(k.createdAt), shownTime(k.lastUsedAt), shownTime(k.revokedAt)]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd()).join('\n') + '\n';
}
