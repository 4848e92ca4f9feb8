/**
 * The shop's request flows, as traces and correlated logs.
 *
 * frontend (HTTP server) -> checkout -> inventory (-> postgres), payments (-> card processor),
 * shipping (-> carrier API); checkout also reads and clears the cart in redis. Each request
 * becomes one trace whose spans sit in their own service's bucket of the batch; durations are
 * lognormal, ~1.5% of operations are slow, and failures propagate up the call chain.
 */
import { opentelemetry } from '../otlp/index.ts';
import { SERVICES, SERVICE_INDEX, SERVICE_NAMES, type ServiceName } from './catalog.ts';
import {
  CARRIER_ERROR,
  PAYMENT_CONNECTION_RESET,
  PAYMENT_TIMEOUT,
  PAYMENT_UNAVAILABLE,
  PG_DEADLOCK,
  PG_TIMEOUT,
  REDIS_TIMEOUT,
  RENDER_ERROR,
  httpClientFailure,
  upstreamFailure,
  type Failure,
} from './failures.ts';
import { dbl, int, msToNanos, str, type KeyValue } from '../otlp/index.ts';
import type { Prng } from './prng.ts';
import type { ShopMetrics } from './shop-metrics.ts';

export type Span = opentelemetry.proto.trace.v1.Span.$Properties;
export type LogRecord = opentelemetry.proto.logs.v1.LogRecord.$Properties;

const KIND = opentelemetry.proto.trace.v1.Span.SpanKind;
const STATUS_ERROR = opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR;
const SEV = opentelemetry.proto.logs.v1.SeverityNumber;

interface Severity {
  number: number;
  text: string;
}
const DEBUG: Severity = { number: SEV.SEVERITY_NUMBER_DEBUG, text: 'DEBUG' };
const INFO: Severity = { number: SEV.SEVERITY_NUMBER_INFO, text: 'INFO' };
const WARN: Severity = { number: SEV.SEVERITY_NUMBER_WARN, text: 'WARN' };
const ERROR: Severity = { number: SEV.SEVERITY_NUMBER_ERROR, text: 'ERROR' };

/** W3C "sampled" plus OTLP's "parent is-remote is known" bit, and "is remote" when it is. */
const FLAGS_LOCAL_PARENT = 0x101;
const FLAGS_REMOTE_PARENT = 0x301;

/** Above this a request logs a WARN: what "slow" means for each service. */
const SLOW_MS: Record<ServiceName, number> = { frontend: 1000, checkout: 800, payments: 600, inventory: 150, shipping: 250 };

/** Spans and logs of one time window, one bucket per service (SERVICE_NAMES order). */
export interface Batch {
  spans: Span[][];
  logs: LogRecord[][];
  traces: number;
  spanCount: number;
  logCount: number;
}

export function newBatch(): Batch {
  return { spans: SERVICE_NAMES.map(() => []), logs: SERVICE_NAMES.map(() => []), traces: 0, spanCount: 0, logCount: 0 };
}

interface Outcome {
  endMs: number;
  status: number;
  failure: Failure | null;
}

type Handler = (spanId: Uint8Array, startMs: number) => Outcome;

interface FrontendRoute {
  weight: number;
  method: string;
  route: string;
}

const FRONTEND_ROUTES: readonly FrontendRoute[] = [
  { weight: 0.35, method: 'GET', route: '/api/products/{id}' },
  { weight: 0.25, method: 'GET', route: '/api/products' },
  { weight: 0.15, method: 'GET', route: '/api/cart' },
  { weight: 0.25, method: 'POST', route: '/api/checkout' },
];

const CARRIERS = ['ups', 'dhl', 'fedex', 'usps'] as const;

/** Generates one trace per call into a batch; holds per-trace state between its helpers. */
export class ShopTraffic {
  private readonly prng: Prng;
  private readonly ids: Prng;
  private readonly metrics: ShopMetrics;
  private batch: Batch = newBatch();
  private traceId: Uint8Array = new Uint8Array(16);
  private burst = false;

  /** `prng` drives behaviour; `ids` only draws trace/span ids, so runs differ in ids but not in shape. */
  constructor(prng: Prng, ids: Prng, metrics: ShopMetrics) {
    this.prng = prng;
    this.ids = ids;
    this.metrics = metrics;
  }

  /** Adds one user request (a whole trace, with its logs) starting at `startMs` to the batch. */
  request(batch: Batch, startMs: number, burst: boolean): void {
    this.batch = batch;
    this.burst = burst;
    this.traceId = this.ids.fillBytes(new Uint8Array(16));
    batch.traces++;
    const r = this.pickRoute();
    const userId = `u-${this.prng.int(1000, 9999)}`;
    switch (r.route) {
      case '/api/products/{id}': {
        const id = this.prng.int(1, 500);
        this.server('frontend', null, startMs, r.method, r.route, `/api/products/${id}`, (sid, t) => this.productPage(sid, t, id));
        return;
      }
      case '/api/products':
        this.server('frontend', null, startMs, r.method, r.route, '/api/products', (sid, t) => this.productList(sid, t));
        return;
      case '/api/cart':
        this.server('frontend', null, startMs, r.method, r.route, '/api/cart', (sid, t) => this.cartPage(sid, t, userId));
        return;
      default:
        this.server('frontend', null, startMs, r.method, r.route, '/api/checkout', (sid, t) => this.checkoutPage(sid, t, userId));
    }
  }

  // ---- frontend ------------------------------------------------------------------------

  private productPage(sid: Uint8Array, t: number, id: number): Outcome {
    t += this.prng.lognormal(0.3, 0.4);
    // Bad ids never reach the backend: a 4xx is the client's fault, so the span stays unset.
    if (this.prng.chance(0.015)) return { endMs: t + 0.2, status: 404, failure: null };
    const sku = `SKU-${String(id).padStart(5, '0')}`;
    const inv = this.httpCall('frontend', sid, t, 'inventory', 'GET', '/inventory/{sku}', `/inventory/${sku}`, (isid, it) => this.stockLookup(isid, it, sku));
    if (inv.failure) return { endMs: inv.endMs + 0.3, status: 500, failure: upstreamFailure('frontend', 'could not load product', inv.failure) };
    return this.render(sid, inv.endMs, 'render product page', 3);
  }

  private productList(sid: Uint8Array, t: number): Outcome {
    t += this.prng.lognormal(0.3, 0.4);
    const inv = this.httpCall('frontend', sid, t, 'inventory', 'GET', '/inventory', '/inventory?limit=20', (isid, it) => this.stockList(isid, it));
    if (inv.failure) return { endMs: inv.endMs + 0.3, status: 500, failure: upstreamFailure('frontend', 'could not list products', inv.failure) };
    return this.render(sid, inv.endMs, 'render product list', 5);
  }

  private cartPage(sid: Uint8Array, t: number, userId: string): Outcome {
    t += this.prng.lognormal(0.3, 0.4);
    const cart = this.httpCall('frontend', sid, t, 'checkout', 'GET', '/cart', `/cart?user=${userId}`, (csid, ct) => this.getCart(csid, ct, userId));
    if (cart.failure) return { endMs: cart.endMs + 0.3, status: 500, failure: upstreamFailure('frontend', 'could not load cart', cart.failure) };
    return this.render(sid, cart.endMs, 'render cart', 2);
  }

  private checkoutPage(sid: Uint8Array, t: number, userId: string): Outcome {
    t += this.prng.lognormal(0.4, 0.4);
    const res = this.httpCall('frontend', sid, t, 'checkout', 'POST', '/checkout', '/checkout', (csid, ct) => this.checkout(csid, ct, userId));
    if (res.failure) return { endMs: res.endMs + 0.3, status: 500, failure: upstreamFailure('frontend', 'checkout failed', res.failure) };
    return this.render(sid, res.endMs, 'render order confirmation', 2);
  }

  private render(sid: Uint8Array, t: number, name: string, medianMs: number): Outcome {
    const failure = this.prng.chance(0.003) ? RENDER_ERROR : null;
    const end = this.internal('frontend', sid, t, name, medianMs, failure);
    return { endMs: end + 0.1, status: failure ? 500 : 200, failure };
  }

  // ---- checkout ------------------------------------------------------------------------

  private getCart(sid: Uint8Array, t: number, userId: string): Outcome {
    const r = this.db('checkout', sid, t + 0.1, 'redis', 'GET', null, `GET cart:${userId}`, 0.4, 0.002, REDIS_TIMEOUT);
    if (r.failure) return { endMs: r.endMs + 0.1, status: 500, failure: upstreamFailure('checkout', 'cart store unavailable', r.failure) };
    const end = this.internal('checkout', sid, r.endMs, 'price cart', 0.6, null);
    return { endMs: end + 0.1, status: 200, failure: null };
  }

  private checkout(sid: Uint8Array, t: number, userId: string): Outcome {
    const orderId = `ord-${this.prng.uint32().toString(36)}`;
    const items = this.prng.int(1, 4);
    this.log('checkout', sid, t, INFO, `placing order ${orderId} for ${userId} (${items} items)`, [str('order.id', orderId), str('user.id', userId)]);
    t = this.internal('checkout', sid, t + 0.1, 'validate cart', 0.8, null);
    const cart = this.db('checkout', sid, t, 'redis', 'GET', null, `GET cart:${userId}`, 0.4, 0.002, REDIS_TIMEOUT);
    if (cart.failure) return this.orderFailed(sid, cart.endMs, orderId, upstreamFailure('checkout', 'cart store unavailable', cart.failure));

    const inv = this.httpCall('checkout', sid, cart.endMs, 'inventory', 'POST', '/inventory/reserve', '/inventory/reserve', (isid, it) => this.reserve(isid, it, items));
    if (inv.failure) return this.orderFailed(sid, inv.endMs, orderId, upstreamFailure('checkout', 'stock reservation failed', inv.failure));

    const amount = Math.max(1, Math.round(this.prng.lognormal(45, 0.7) * items * 100) / 100);
    const pay = this.httpCall('checkout', sid, inv.endMs, 'payments', 'POST', '/payments/charge', '/payments/charge', (psid, pt) => this.charge(psid, pt, orderId, amount));
    if (pay.failure) return this.orderFailed(sid, pay.endMs, orderId, upstreamFailure('checkout', 'payment failed', pay.failure));

    const ship = this.httpCall('checkout', sid, pay.endMs, 'shipping', 'POST', '/shipments', '/shipments', (ssid, st) => this.ship(ssid, st, orderId, items));
    if (ship.failure) return this.orderFailed(sid, ship.endMs, orderId, upstreamFailure('checkout', 'shipment failed', ship.failure));

    const clear = this.db('checkout', sid, ship.endMs, 'redis', 'DEL', null, `DEL cart:${userId}`, 0.3, 0, null);
    this.metrics.recordOrderValue(amount);
    this.log('checkout', sid, clear.endMs, INFO, `order ${orderId} placed: ${items} items, ${amount.toFixed(2)} USD`, [str('order.id', orderId), dbl('order.amount', amount)]);
    return { endMs: clear.endMs + 0.2, status: 200, failure: null };
  }

  private orderFailed(sid: Uint8Array, t: number, orderId: string, failure: Failure): Outcome {
    this.log('checkout', sid, t, ERROR, `order ${orderId} failed: ${failure.message}`, [str('order.id', orderId), str('exception.type', failure.type)]);
    return { endMs: t + 0.2, status: 502, failure };
  }

  // ---- inventory -----------------------------------------------------------------------

  private stockLookup(sid: Uint8Array, t: number, sku: string): Outcome {
    if (this.prng.chance(0.3)) this.log('inventory', sid, t, DEBUG, `stock lookup for ${sku}`, [str('product.sku', sku)]);
    const q = this.db('inventory', sid, t + 0.2, 'postgresql', 'SELECT', 'stock', 'SELECT sku, name, price, available FROM stock WHERE sku = $1', 2, 0.005, PG_TIMEOUT);
    if (q.failure) return { endMs: q.endMs + 0.2, status: 500, failure: q.failure };
    return { endMs: q.endMs + this.prng.lognormal(0.3, 0.3), status: 200, failure: null };
  }

  private stockList(sid: Uint8Array, t: number): Outcome {
    const q = this.db('inventory', sid, t + 0.2, 'postgresql', 'SELECT', 'stock', 'SELECT sku, name, price, available FROM stock ORDER BY popularity DESC LIMIT 20', 6, 0.005, PG_TIMEOUT);
    if (q.failure) return { endMs: q.endMs + 0.2, status: 500, failure: q.failure };
    return { endMs: q.endMs + this.prng.lognormal(0.8, 0.3), status: 200, failure: null };
  }

  private reserve(sid: Uint8Array, t: number, items: number): Outcome {
    t += 0.2;
    for (let i = 0; i < items; i++) {
      const q = this.db('inventory', sid, t, 'postgresql', 'UPDATE', 'stock', 'UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND available - reserved >= $1', 3, 0.002, PG_DEADLOCK);
      if (q.failure) return { endMs: q.endMs + 0.2, status: 500, failure: q.failure };
      t = q.endMs + 0.05;
    }
    this.log('inventory', sid, t, INFO, `reserved ${items} items`, [int('reservation.items', items)]);
    return { endMs: t + 0.2, status: 200, failure: null };
  }

  // ---- payments ------------------------------------------------------------------------

  private charge(sid: Uint8Array, t: number, orderId: string, amount: number): Outcome {
    this.log('payments', sid, t, INFO, `charging ${amount.toFixed(2)} USD for ${orderId}`, [str('order.id', orderId), dbl('payment.amount', amount)]);
    t = this.internal('payments', sid, t + 0.2, 'fraud check', 1.5, null);
    // The burst: the card processor degrades, so payments fails ~40% of charges and slows down.
    const fails = this.prng.chance(this.burst ? 0.4 : 0.01);
    let failure: Failure | null = null;
    let ms = this.prng.lognormal(this.burst ? 240 : 80, 0.45) * this.slowFactor();
    if (fails) {
      if (this.burst && this.prng.chance(0.6)) {
        failure = PAYMENT_TIMEOUT;
        ms = 2000 + this.prng.next() * 5;
      } else {
        failure = this.burst ? PAYMENT_UNAVAILABLE : PAYMENT_CONNECTION_RESET;
      }
    }
    const cid = this.newSpanId();
    const attrs: KeyValue[] = [
      str('http.request.method', 'POST'),
      str('url.full', 'https://api.cardprocessor.example/v1/charges'),
      str('server.address', 'api.cardprocessor.example'),
      int('server.port', 443),
      str('peer.service', 'cardprocessor'),
    ];
    if (failure !== PAYMENT_TIMEOUT) attrs.push(int('http.response.status_code', failure ? 503 : 200));
    this.emit('payments', cid, sid, 'POST', KIND.SPAN_KIND_CLIENT, t, t + ms, attrs, failure, false);
    t += ms;
    if (ms > SLOW_MS.payments) this.log('payments', sid, t, WARN, `card processor slow: ${Math.round(ms)} ms for ${orderId}`, [str('order.id', orderId), dbl('processor.duration_ms', ms)]);
    if (failure) {
      this.log('payments', sid, t, ERROR, `charge for ${orderId} failed: ${failure.message}`, [str('order.id', orderId), str('exception.type', failure.type)]);
      return { endMs: t + 0.3, status: 503, failure };
    }
    return { endMs: t + this.prng.lognormal(0.8, 0.3), status: 200, failure: null };
  }

  // ---- shipping ------------------------------------------------------------------------

  private ship(sid: Uint8Array, t: number, orderId: string, items: number): Outcome {
    const start = t;
    t = this.internal('shipping', sid, t + 0.1, 'compute parcel', 0.7, null);
    const carrier = this.prng.pick(CARRIERS);
    const failure = this.prng.chance(0.004) ? CARRIER_ERROR : null;
    const ms = this.prng.lognormal(14, 0.5) * this.slowFactor();
    const attrs: KeyValue[] = [
      str('http.request.method', 'POST'),
      str('url.full', `https://api.${carrier}.example/rates`),
      str('server.address', `api.${carrier}.example`),
      int('server.port', 443),
      int('http.response.status_code', failure ? 500 : 200),
      str('peer.service', carrier),
    ];
    this.emit('shipping', this.newSpanId(), sid, 'POST', KIND.SPAN_KIND_CLIENT, t, t + ms, attrs, failure, false);
    t += ms;
    this.metrics.recordShippingQuote(t - start);
    if (failure) {
      this.log('shipping', sid, t, ERROR, `no quote for ${orderId}: ${failure.message}`, [str('order.id', orderId), str('shipping.carrier', carrier)]);
      return { endMs: t + 0.2, status: 500, failure };
    }
    const price = (4 + items * 1.5 + this.prng.next() * 3).toFixed(2);
    this.log('shipping', sid, t, INFO, `shipment for ${orderId} booked with ${carrier}: ${price} USD`, [str('order.id', orderId), str('shipping.carrier', carrier)]);
    return { endMs: t + 0.2, status: 200, failure: null };
  }

  // ---- building blocks -----------------------------------------------------------------

  /** A server span around `handler`, with its request metric and its access logs. */
  private server(service: ServiceName, parentId: Uint8Array | null, startMs: number, method: string, route: string, path: string, handler: Handler): Outcome & { spanId: Uint8Array } {
    const sid = this.newSpanId();
    if (this.prng.chance(0.25)) this.log(service, sid, startMs, DEBUG, `handling ${method} ${path}`, [str('http.route', route)]);
    const out = handler(sid, startMs);
    const info = SERVICES[service];
    const attrs: KeyValue[] = [
      str('http.request.method', method),
      str('http.route', route),
      str('url.path', path),
      str('url.scheme', 'http'),
      str('server.address', service),
      int('server.port', info.port),
      str('network.protocol.version', '1.1'),
      int('http.response.status_code', out.status),
    ];
    if (parentId === null) attrs.push(str('client.address', `203.0.113.${this.prng.int(1, 254)}`), str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) ShopDemo/1.0'));
    this.emit(service, sid, parentId, `${method} ${route}`, KIND.SPAN_KIND_SERVER, startMs, out.endMs, attrs, out.status >= 500 ? out.failure : null, parentId !== null);
    const ms = out.endMs - startMs;
    this.metrics.recordServerRequest(service, route, out.status, ms, this.traceId, sid, startMs);
    const took = ms < 10 ? ms.toFixed(2) : Math.round(ms).toString();
    const accessAttrs = [str('http.route', route), int('http.response.status_code', out.status), dbl('http.server.duration_ms', ms)];
    if (out.status >= 500 && out.failure) {
      this.log(service, sid, out.endMs, ERROR, `${method} ${path} ${out.status} in ${took} ms: ${out.failure.message}`, [...accessAttrs, str('exception.type', out.failure.type)]);
    } else if (ms > SLOW_MS[service]) {
      this.log(service, sid, out.endMs, WARN, `slow request: ${method} ${path} ${out.status} took ${took} ms`, accessAttrs);
    } else {
      this.log(service, sid, out.endMs, INFO, `${method} ${path} ${out.status} in ${took} ms`, accessAttrs);
    }
    return { ...out, spanId: sid };
  }

  /** A client span from `caller` and the server span of `target` under it. */
  private httpCall(caller: ServiceName, parentId: Uint8Array, startMs: number, target: ServiceName, method: string, route: string, path: string, handler: Handler): Outcome {
    const cid = this.newSpanId();
    const info = SERVICES[target];
    const res = this.server(target, cid, startMs + this.prng.lognormal(0.25, 0.3), method, route, path, handler);
    const endMs = res.endMs + this.prng.lognormal(0.2, 0.3);
    const url = `http://${target}:${info.port}${path}`;
    const failure = res.status >= 500 ? httpClientFailure(caller, method, url, res.status) : null;
    const attrs: KeyValue[] = [
      str('http.request.method', method),
      str('url.full', url),
      str('server.address', target),
      int('server.port', info.port),
      int('http.response.status_code', res.status),
      str('peer.service', target),
    ];
    this.emit(caller, cid, parentId, method, KIND.SPAN_KIND_CLIENT, startMs, endMs, attrs, failure, false);
    // Upward, the server's own failure travels: callers name the root cause, not the hop.
    return { endMs, status: res.status, failure: failure ? (res.failure ?? failure) : null };
  }

  /** A database client span (postgresql or redis); `failP` is its chance of failing with `onFail`. */
  private db(service: ServiceName, parentId: Uint8Array, startMs: number, system: 'postgresql' | 'redis', operation: string, table: string | null, statement: string, medianMs: number, failP: number, onFail: Failure | null): Outcome {
    const failure = onFail && this.prng.chance(failP) ? onFail : null;
    const ms = this.prng.lognormal(medianMs, 0.5) * this.slowFactor();
    const isPg = system === 'postgresql';
    const attrs: KeyValue[] = [
      str('db.system', system),
      str('db.namespace', isPg ? 'shop' : '0'),
      str('db.operation.name', operation),
      str('db.statement', statement),
      str('server.address', isPg ? 'postgres' : 'redis'),
      int('server.port', isPg ? 5432 : 6379),
    ];
    if (table) attrs.push(str('db.collection.name', table));
    this.emit(service, this.newSpanId(), parentId, table ? `${operation} ${table}` : operation, KIND.SPAN_KIND_CLIENT, startMs, startMs + ms, attrs, failure, false);
    if (isPg) this.metrics.recordDbQuery(ms);
    return { endMs: startMs + ms, status: failure ? 500 : 200, failure };
  }

  private internal(service: ServiceName, parentId: Uint8Array, startMs: number, name: string, medianMs: number, failure: Failure | null): number {
    const end = startMs + this.prng.lognormal(medianMs, 0.4) * this.slowFactor();
    this.emit(service, this.newSpanId(), parentId, name, KIND.SPAN_KIND_INTERNAL, startMs, end, [], failure, false);
    return end;
  }

  /** 1.5% of operations take 4-20x longer: the tail a latency chart should show. */
  private slowFactor(): number {
    return this.prng.chance(0.015) ? 4 + this.prng.next() * 16 : 1;
  }

  private emit(service: ServiceName, spanId: Uint8Array, parentId: Uint8Array | null, name: string, kind: number, startMs: number, endMs: number, attributes: KeyValue[], failure: Failure | null, remoteParent: boolean): void {
    const span: Span = {
      traceId: this.traceId,
      spanId,
      name,
      kind,
      flags: remoteParent ? FLAGS_REMOTE_PARENT : FLAGS_LOCAL_PARENT,
      startTimeUnixNano: msToNanos(startMs),
      endTimeUnixNano: msToNanos(endMs),
      attributes,
    };
    if (parentId) span.parentSpanId = parentId;
    if (failure) {
      span.status = { code: STATUS_ERROR, message: failure.message };
      span.events = [
        {
          name: 'exception',
          timeUnixNano: span.endTimeUnixNano,
          attributes: [str('exception.type', failure.type), str('exception.message', failure.message), str('exception.stacktrace', failure.stacktrace)],
        },
      ];
    }
    this.batch.spans[SERVICE_INDEX[service]].push(span);
    this.batch.spanCount++;
  }

  private log(service: ServiceName, spanId: Uint8Array, atMs: number, severity: Severity, body: string, attributes: KeyValue[]): void {
    const time = msToNanos(atMs);
    this.batch.logs[SERVICE_INDEX[service]].push({
      timeUnixNano: time,
      observedTimeUnixNano: time,
      severityNumber: severity.number,
      severityText: severity.text,
      body: { stringValue: body },
      attributes,
      traceId: this.traceId,
      spanId,
      flags: 1,
    });
    this.batch.logCount++;
  }

  private newSpanId(): Uint8Array {
    return this.ids.fillBytes(new Uint8Array(8));
  }

  private pickRoute(): FrontendRoute {
    let u = this.prng.next();
    for (const r of FRONTEND_ROUTES) {
      if (u < r.weight) return r;
      u -= r.weight;
    }
    return FRONTEND_ROUTES[FRONTEND_ROUTES.length - 1];
  }
}
