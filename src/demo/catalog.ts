/** The demo shop: its services, how they are deployed, and the resource each one reports. */
import type { opentelemetry } from '../otlp/index.ts';
import { str, type KeyValue } from '../otlp/index.ts';

export type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
export type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

export const SERVICE_NAMES = ['frontend', 'checkout', 'payments', 'inventory', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceInfo {
  name: ServiceName;
  version: string;
  host: string;
  port: number;
  language: string;
  resource: Resource;
  scope: Scope;
}

export const ENVIRONMENT = 'demo';
const SCOPE_VERSION = '0.1.0';

const DEPLOYMENT: Record<ServiceName, { version: string; host: string; port: number; language: string }> = {
  frontend: { version: '2.14.0', host: 'web-1', port: 8080, language: 'nodejs' },
  checkout: { version: '1.8.3', host: 'app-1', port: 8081, language: 'go' },
  payments: { version: '3.2.1', host: 'app-2', port: 8082, language: 'java' },
  inventory: { version: '1.21.0', host: 'app-3', port: 8083, language: 'python' },
  shipping: { version: '0.9.7', host: 'app-2', port: 8084, language: 'go' },
};

function resourceOf(name: ServiceName, version: string, host: string, language: string): Resource {
  const attributes: KeyValue[] = [
    str('service.name', name),
    str('service.namespace', 'shop'),
    str('service.version', version),
    str('service.instance.id', `${name}-${host}`),
    str('deployment.environment', ENVIRONMENT),
    str('deployment.environment.name', ENVIRONMENT),
    str('host.name', host),
    str('telemetry.sdk.language', language),
    str('telemetry.sdk.name', 'opentelemetry'),
  ];
  return { attributes };
}

/** Built once: resources and scopes are shared by every batch (encoding only reads them). */
export const SERVICES: Record<ServiceName, ServiceInfo> = Object.fromEntries(
  SERVICE_NAMES.map((name) => {
    const d = DEPLOYMENT[name];
    return [name, { name, ...d, resource: resourceOf(name, d.version, d.host, d.language), scope: { name: `shop.${name}`, version: SCOPE_VERSION } }];
  }),
) as Record<ServiceName, ServiceInfo>;

/** Index of a service in SERVICE_NAMES; batches keep one bucket per service in this order. */
export const SERVICE_INDEX: Record<ServiceName, number> = Object.fromEntries(SERVICE_NAMES.map((n, i) => [n, i])) as Record<ServiceName, number>;
