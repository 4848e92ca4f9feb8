import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReportedInterface, parseNetDev } from './network.ts';

test('loopback and container veth ends are left out; bridges and real interfaces kept', () => {
  assert.deepEqual(
    ['lo', 'eth0', 'ens5', 'docker0', 'cni0', 'veth9f2c1a0', 'cali3b5e7d9a1f2', 'wlp2s0'].filter(isReportedInterface),
    ['eth0', 'ens5', 'docker0', 'cni0', 'wlp2s0'],
  );
});

test('receive and transmit columns are read from their own halves', () => {
  const [i] = parseNetDev('  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n');
  assert.deepEqual(i, { device: 'eth0', rxBytes: 1, rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: 9, txPackets: 10, txErrors: 11, txDropped: 12 });
});
