import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyFromHeaders, type KeyResolver } from '../tenancy/index.ts';
import type { TenantId } from '../telemetry/signals.ts';

// Kept beside the request rather than decorated onto FastifyRequest, so the API does not
// widen a type that the gateway and other plugins share.
const tenants = new WeakMap<FastifyRequest, TenantId>();

/**
 * An onRequest hook: resolves the tenant from the API key, or answers 401 before any
 * parameter is read, so a caller without a key learns nothing about the data.
 */
export function tenantHook(keys: KeyResolver) {
  return async function resolveTenant(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const key = apiKeyFromHeaders(request.headers);
    const tenant = key === null ? null : keys.resolve(key);
    if (tenant === null) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: key === null ? 'missing API key: send Authorization: Bearer <key>' : 'invalid API key' });
      return;
    }
    tenants.set(request, tenant);
  };
}

/** The tenant resolved by tenantHook for this request. */
export function tenantOf(request: FastifyRequest): TenantId {
  const tenant = tenants.get(request);
  // Only reachable if a route were registered outside the hooked scope: fail closed.
  if (tenant === undefined) throw new Error('no tenant resolved for this request');
  return tenant;
}
