/**
 * Run as a child process by tests: creates `count` keys in the file store of `dataDir`, so
 * two of these racing show whether the file lock keeps every key.
 * Usage: node create-keys-process.ts <dataDir> <count> <tenant>
 */
import { openFileKeyStore } from '../file-key-store.ts';

const [dataDir, count, tenant] = process.argv.slice(2);
const store = await openFileKeyStore({ dataDir, watch: false });
for (let i = 0; i < Number(count); i++) await store.create({ tenant, name: `${tenant}-${i}` });
await store.close();
