/** /proc/net/dev: bytes, packets, errors and drops per network interface. */
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, sum, type Point } from './points.ts';
import { fields, whole } from './proc-files.ts';

export interface InterfaceStats {
  device: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

const FILE = '/proc/net/dev';

/**
 * Interfaces left out: loopback (traffic that never leaves the host), and the host ends of
 * container veth pairs (veth* from Docker and most CNIs, cali* from Calico). Each container
 * adds one and they come and go with pods, while the same traffic is counted on the bridge or
 * the physical interface.
 */
export function isReportedInterface(device: string): boolean {
  return device !== 'lo' && !device.startsWith('veth') && !device.startsWith('cali');
}

export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n')) {
    // Two header lines have '|' and no "name:"; old kernels print "eth0:1234" with no space.
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const device = line.slice(0, colon).trim();
    const c = fields(line.slice(colon + 1));
    const n = (i: number, what: string) => whole(c[i], FILE, `${device} ${what}`);
    out.push({
      device,
      rxBytes: n(0, 'receive bytes'),
      rxPackets: n(1, 'receive packets'),
      rxErrors: n(2, 'receive errs'),
      rxDropped: n(3, 'receive drop'),
      txBytes: n(8, 'transmit bytes'),
      txPackets: n(9, 'transmit packets'),
      txErrors: n(10, 'transmit errs'),
      txDropped: n(11, 'transmit drop'),
    });
  }
  return out;
}

export const networkScraper: Scraper = {
  name: 'network',
  async scrape(ctx) {
    // <procRoot>/net is the network namespace of the agent itself: an agent in a container sees
    // the host's interfaces only with host networking.
    const ifaces = parseNetDev(await ctx.read(join(ctx.procRoot, 'net', 'dev'))).filter((i) => isReportedInterface(i.device));
    const both = (rx: (i: InterfaceStats) => number, tx: (i: InterfaceStats) => number): Point[] =>
      ifaces.flatMap((i) => [
        [tx(i), attrs({ device: i.device, direction: 'transmit' })] as const,
        [rx(i), attrs({ device: i.device, direction: 'receive' })] as const,
      ]);
    return [
      sum({ name: 'system.network.io', unit: 'By', description: 'Bytes transmitted and received.', int: true }, true, ctx.sinceBoot, both((i) => i.rxBytes, (i) => i.txBytes)),
      sum({ name: 'system.network.packets', unit: '{packets}', description: 'Packets transmitted and received.', int: true }, true, ctx.sinceBoot, both((i) => i.rxPackets, (i) => i.txPackets)),
      sum({ name: 'system.network.errors', unit: '{errors}', description: 'Transmit and receive errors.', int: true }, true, ctx.sinceBoot, both((i) => i.rxErrors, (i) => i.txErrors)),
      sum({ name: 'system.network.dropped', unit: '{packets}', description: 'Packets dropped on transmit and receive.', int: true }, true, ctx.sinceBoot, both((i) => i.rxDropped, (i) => i.txDropped)),
    ];
  },
};
