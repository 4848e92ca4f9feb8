import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Closes the listener and cuts every connection: to clients, the target is down. */
  cut(): Promise<void>;
  /** Listens again on the same port: the target is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay to host:port that a test can cut and restore, to play a Redis outage. */
export async function startTcpProxy(host: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const newServer = (): Server =>
    createServer((client) => {
      const upstream = connect(targetPort, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  const listen = (server: Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  let server: Server | null = newServer();
  await listen(server, 0);
  const port = (server.address() as { port: number }).port;
  const cut = async () => {
    if (server === null) return;
    const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closing;
    server = null;
  };
  return {
    port,
    cut,
    async restore() {
      if (server !== null) return;
      server = newServer();
      await listen(server, port);
    },
    close: cut,
  };
}
