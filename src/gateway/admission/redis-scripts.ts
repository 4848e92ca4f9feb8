import { createHash } from 'node:crypto';

export type RedisClient = ReturnType<typeof import('redis').createClient>;

/** A Lua script sent once and then run by its SHA1 (EVALSHA), one round trip a call. */
export interface Script {
  source: string;
  sha1: string;
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Leases tokens from a tenant's shared bucket. KEYS[1] = the bucket (a hash: tokens, ms);
 * ARGV = rate per second, capacity, need (the least the caller can use), want (the lease it
 * would like). Refills from Redis's own clock (TIME), so gateway clocks may disagree. Grants
 * `want` when that many are there, else what is there when that covers `need`; when even
 * `need` (capped at the capacity: a request bigger than the burst leaves the bucket in debt)
 * is not there, grants nothing and answers the milliseconds until it would be.
 * Returns {granted, waitMs}. The key expires once a bucket left alone would be full again:
 * a missing key is a full bucket.
 */
export const LEASE_SCRIPT = script(`
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
if now > last then
  tokens = math.min(capacity, tokens + (now - last) * rate / 1000)
  last = now
end
local must = math.min(need, capacity)
local granted = 0
local wait = 0
if tokens >= must then
  granted = math.max(need, math.min(want, math.floor(tokens)))
  tokens = tokens - granted
else
  wait = math.ceil((must - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ms', tostring(last))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return {granted, wait}
`);

/**
 * A gateway says it is alive and learns how many are. KEYS[1] = a sorted set of gateway id →
 * last heartbeat (Redis ms); ARGV = this gateway's id, and how old a heartbeat may be before
 * its gateway counts as gone. Returns the number of live gateways.
 */
export const HEARTBEAT_SCRIPT = script(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - stale)
redis.call('PEXPIRE', KEYS[1], stale * 2)
return redis.call('ZCARD', KEYS[1])
`);

/** Runs a script by SHA1, sending its source only when Redis does not have it yet. */
export async function runScript(client: RedisClient, s: Script, keys: string[], args: Array<string | number>, timeoutMs: number): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args.map(String)];
  try {
    return await client.sendCommand(['EVALSHA', s.sha1, ...tail], { timeout: timeoutMs });
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return await client.sendCommand(['EVAL', s.source, ...tail], { timeout: timeoutMs });
  }
}
