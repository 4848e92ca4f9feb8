import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry };

/** The process's Prometheus registry, with Node's default process metrics under `ollystack_`. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ollystack_' });
  return registry;
}
