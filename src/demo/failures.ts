/**
 * What goes wrong in the shop, as exceptions the way each service's language would report
 * them (type, message, stack trace), so error spans and ERROR logs read like real ones.
 */
import type { ServiceName } from './catalog.ts';

export interface Failure {
  type: string;
  message: string;
  stacktrace: string;
}

export const PAYMENT_TIMEOUT: Failure = {
  type: 'com.shop.payments.ProcessorTimeoutException',
  message: 'card processor api.cardprocessor.example did not answer within 2000 ms',
  stacktrace: [
    'com.shop.payments.ProcessorTimeoutException: card processor api.cardprocessor.example did not answer within 2000 ms',
    '\tat com.shop.payments.ProcessorClient.charge(ProcessorClient.java:118)',
    '\tat com.shop.payments.ChargeService.charge(ChargeService.java:64)',
    '\tat com.shop.payments.http.ChargeController.post(ChargeController.java:41)',
    'Caused by: java.net.SocketTimeoutException: Read timed out',
    '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)',
  ].join('\n'),
};

export const PAYMENT_UNAVAILABLE: Failure = {
  type: 'com.shop.payments.ProcessorUnavailableException',
  message: 'card processor answered 503 Service Unavailable (upstream connect error)',
  stacktrace: [
    'com.shop.payments.ProcessorUnavailableException: card processor answered 503 Service Unavailable (upstream connect error)',
    '\tat com.shop.payments.ProcessorClient.checkStatus(ProcessorClient.java:203)',
    '\tat com.shop.payments.ProcessorClient.charge(ProcessorClient.java:121)',
    '\tat com.shop.payments.ChargeService.charge(ChargeService.java:64)',
  ].join('\n'),
};

export const PAYMENT_CONNECTION_RESET: Failure = {
  type: 'java.net.SocketException',
  message: 'Connection reset by peer',
  stacktrace: [
    'java.net.SocketException: Connection reset by peer',
    '\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:330)',
    '\tat com.shop.payments.ProcessorClient.charge(ProcessorClient.java:115)',
    '\tat com.shop.payments.ChargeService.charge(ChargeService.java:64)',
  ].join('\n'),
};

export const PG_DEADLOCK: Failure = {
  type: 'psycopg.errors.DeadlockDetected',
  message: 'deadlock detected: Process 4121 waits for ShareLock on transaction 99812; blocked by process 4118',
  stacktrace: [
    'Traceback (most recent call last):',
    '  File "/app/inventory/api.py", line 88, in reserve',
    '    await repo.reserve(sku, qty)',
    '  File "/app/inventory/repo.py", line 41, in reserve',
    '    await cur.execute(RESERVE_SQL, (qty, sku))',
    'psycopg.errors.DeadlockDetected: deadlock detected',
  ].join('\n'),
};

export const PG_TIMEOUT: Failure = {
  type: 'psycopg.errors.QueryCanceled',
  message: 'canceling statement due to statement timeout',
  stacktrace: [
    'Traceback (most recent call last):',
    '  File "/app/inventory/api.py", line 52, in get_stock',
    '    row = await repo.stock(sku)',
    '  File "/app/inventory/repo.py", line 23, in stock',
    '    await cur.execute(STOCK_SQL, (sku,))',
    'psycopg.errors.QueryCanceled: canceling statement due to statement timeout',
  ].join('\n'),
};

export const REDIS_TIMEOUT: Failure = {
  type: 'redis.TimeoutError',
  message: 'i/o timeout reading from redis:6379',
  stacktrace: ['goroutine 412 [running]:', 'github.com/redis/go-redis/v9.(*baseClient).process(...)', '\t/go/pkg/mod/github.com/redis/go-redis/v9/redis.go:382', 'main.(*CartStore).Get(...)', '\t/src/checkout/cart.go:57'].join('\n'),
};

export const CARRIER_ERROR: Failure = {
  type: 'shipping.CarrierAPIError',
  message: 'carrier rate API returned 500: internal error',
  stacktrace: ['goroutine 88 [running]:', 'main.(*CarrierClient).Rates(...)', '\t/src/shipping/carrier.go:112', 'main.(*Server).quote(...)', '\t/src/shipping/server.go:74'].join('\n'),
};

export const RENDER_ERROR: Failure = {
  type: 'TypeError',
  message: "Cannot read properties of undefined (reading 'price')",
  stacktrace: [
    "TypeError: Cannot read properties of undefined (reading 'price')",
    '    at renderProduct (/app/dist/pages/product.js:42:31)',
    '    at handleProduct (/app/dist/routes/products.js:18:12)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
  ].join('\n'),
};

const HTTP_ERROR_TYPE: Record<ServiceName, string> = {
  frontend: 'FetchError',
  checkout: 'checkout.HTTPError',
  payments: 'org.springframework.web.client.HttpServerErrorException',
  inventory: 'httpx.HTTPStatusError',
  shipping: 'shipping.HTTPError',
};

const FRAME: Record<ServiceName, string> = {
  frontend: '    at fetchJson (/app/dist/lib/http.js:27:11)',
  checkout: 'main.(*Client).Do(...)\n\t/src/checkout/client.go:63',
  payments: '\tat com.shop.payments.http.Client.exchange(Client.java:77)',
  inventory: '  File "/app/inventory/client.py", line 19, in call',
  shipping: 'main.(*Client).Do(...)\n\t/src/shipping/client.go:40',
};

/** The exception an HTTP client reports when the server it called answered 5xx. */
export function httpClientFailure(caller: ServiceName, method: string, url: string, status: number): Failure {
  const type = HTTP_ERROR_TYPE[caller];
  const message = `${method} ${url} returned ${status}`;
  return { type, message, stacktrace: `${type}: ${message}\n${FRAME[caller]}` };
}

/** The exception a server reports when a dependency failed and it could not answer. */
export function upstreamFailure(service: ServiceName, what: string, cause: Failure): Failure {
  const type = HTTP_ERROR_TYPE[service];
  const message = `${what}: ${cause.message}`;
  return { type, message, stacktrace: `${type}: ${message}\n${FRAME[service]}\ncaused by: ${cause.type}: ${cause.message}` };
}
