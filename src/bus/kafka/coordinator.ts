/**
 * The group coordinator of one consumer group: found with FindCoordinator, reached through a
 * connection pool of its owner, and forgotten when Kafka says it moved (or the connection
 * broke), so the next call looks it up again.
 */
import { findCoordinatorV6, type Connection, type ConnectionPool } from '@platformatic/kafka';
import { isCoordinatorError } from './errors.ts';

/** FindCoordinator key type of consumer groups. */
const GROUP_KEY_TYPE = 0;

export interface BrokerAddress {
  host: string;
  port: number;
}

export function parseBroker(hostPort: string): BrokerAddress {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

export class GroupCoordinator {
  readonly groupId: string;
  private readonly pool: ConnectionPool;
  private readonly brokers: () => BrokerAddress[];
  private address: BrokerAddress | null = null;
  private finding: Promise<BrokerAddress> | null = null;

  /** `brokers`: where FindCoordinator may be asked (bootstrap and discovered brokers). */
  constructor(pool: ConnectionPool, brokers: () => BrokerAddress[], groupId: string) {
    this.pool = pool;
    this.brokers = brokers;
    this.groupId = groupId;
  }

  /** Runs one request against the coordinator; on a coordinator or network error forgets it and rethrows. */
  async call<T>(request: (connection: Connection) => Promise<T>): Promise<T> {
    try {
      const address = this.address ?? (await this.find());
      const connection = await this.pool.get(address);
      return await request(connection);
    } catch (err) {
      if (isCoordinatorError(err)) this.address = null;
      throw err;
    }
  }

  private find(): Promise<BrokerAddress> {
    // Concurrent callers (heartbeat, commit) share one lookup.
    this.finding ??= (async () => {
      try {
        const connection = await this.pool.getFirstAvailable(this.brokers());
        const response = await findCoordinatorV6.api.async(connection, GROUP_KEY_TYPE, [this.groupId]);
        const found = response.coordinators[0];
        this.address = { host: found.host, port: found.port };
        return this.address;
      } finally {
        this.finding = null;
      }
    })();
    return this.finding;
  }
}
