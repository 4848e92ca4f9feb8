/**
 * The agent's status endpoint, on localhost only: GET /status answers what the agent
 * collects, sends, buffers and drops (JSON), GET /healthz answers 200. `ollystack agent status`
 * reads it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentStartError } from './errors.ts';

export interface StatusServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startStatusServer(status: () => unknown, port: number, host = '127.0.0.1'): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error & { code?: string }) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AgentStartError(`agent.statusPort: port ${port} on ${host} is already in use (another agent?); set agent.statusPort (OLLYSTACK_AGENT__STATUS_PORT) to a free port, or 0 to turn it off`)
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The status of the agent listening on this port, as GET /status returns it. */
export async function fetchAgentStatus(port: number, host = '127.0.0.1'): Promise<unknown> {
  const url = `http://${host}:${port}/status`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    // fetch wraps the socket error; for localhost it is often an AggregateError (IPv4 and IPv6).
    const e = err as Error & { cause?: { code?: string; errors?: Array<{ code?: string }> } };
    const code = e.cause?.code ?? e.cause?.errors?.[0]?.code ?? (e.cause as Error | undefined)?.message ?? e.message;
    throw new AgentStartError(`no agent answers on ${url} (${code}): is \`ollystack agent\` running, with this agent.statusPort?`);
  }
  if (!res.ok) throw new AgentStartError(`${url} answered HTTP ${res.status}`);
  return res.json();
}
