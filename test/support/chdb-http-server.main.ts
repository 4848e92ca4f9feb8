/**
 * The chDB test server as a process of its own, so tests can kill it and start it again:
 *
 *   npx node test/support/chdb-http-server.main.ts --dir D --port P [--host H] [--user U --password W]
 *
 * Prints `listening <port>` on stdout once it answers, serves until SIGTERM or SIGINT, then
 * closes the chDB session and exits 0. Bad arguments exit 2 with the option named.
 */
import { parseArgs } from 'node:util';
import { startChdbHttpServer } from './chdb-http-server.ts';

function usage(message: string): never {
  process.stderr.write(`chdb-http-server: ${message}\nusage: chdb-http-server.main.ts --dir D [--port P] [--host H] [--user U --password W]\n`);
  process.exit(2);
}

let values: { dir?: string; port?: string; host?: string; user?: string; password?: string };
try {
  ({ values } = parseArgs({
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  usage((err as Error).message);
}
if (!values.dir) usage('--dir (the chDB data folder) is required');
const port = Number(values.port ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a whole number in 0..65535, got ${JSON.stringify(values.port)}`);
if (values.password !== undefined && values.user === undefined) usage('--password needs --user');

const server = await startChdbHttpServer({
  dir: values.dir,
  port,
  host: values.host,
  auth: values.user === undefined ? undefined : { user: values.user, password: values.password ?? '' },
});
process.stdout.write(`listening ${server.port}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
