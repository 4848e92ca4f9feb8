import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { collectHostMetrics } from './collect.ts';
import { cgroupDir, parseCpuMax, parseMemoryMax } from './cgroup.ts';
import { createScrapeState } from './context.ts';
import { createFileReader } from './proc-files.ts';
import { createHostFixture, findMetric, valueOf, type HostFixture } from './test-fixture.ts';

let fx: HostFixture;
before(() => {
  fx = createHostFixture();
});
after(() => fx.cleanup());

test('"max" means no limit; a quota over a period is a number of CPUs', () => {
  assert.equal(parseMemoryMax('max\n'), undefined);
  assert.equal(parseMemoryMax('1073741824\n'), 1_073_741_824);
  assert.equal(parseCpuMax('max 100000\n'), undefined);
  assert.equal(parseCpuMax('50000 100000\n'), 0.5);
  assert.throws(() => parseCpuMax('abc 100000'), /cpu\.max: quota is not a whole number/);
});

test('the cgroup folder comes from the 0:: line; one outside the namespace, or none, falls back to the mount top', async () => {
  const at = async (cgroup: string | undefined) => {
    if (cgroup === undefined) fx.remove('proc/self/cgroup');
    else fx.write('proc/self/cgroup', cgroup);
    return cgroupDir({ procRoot: fx.procRoot, sysRoot: fx.sysRoot, read: createFileReader() });
  };
  try {
    assert.equal(await at('12:memory:/docker/x\n0::/kubepods.slice/pod1.slice\n'), `${fx.sysRoot}/fs/cgroup/kubepods.slice/pod1.slice`);
    assert.equal(await at('0::/../../user.slice\n'), `${fx.sysRoot}/fs/cgroup/`);
    assert.equal(await at(undefined), `${fx.sysRoot}/fs/cgroup/`);
  } finally {
    fx.cleanup();
    fx = createHostFixture();
  }
});

test('an unlimited container reports usage and CPU time but no limits', async () => {
  fx.write(`${fx.cgroupDir}/memory.max`, 'max\n');
  fx.write(`${fx.cgroupDir}/cpu.max`, 'max 100000\n');
  const { metrics, failures } = await collectHostMetrics(createScrapeState(), { procRoot: fx.procRoot, sysRoot: fx.sysRoot });
  assert.deepEqual(failures, []);
  assert.equal(valueOf(metrics, 'container.memory.usage'), 73_400_320);
  assert.equal(valueOf(metrics, 'container.cpu.time', { state: 'user' }), 4);
  assert.equal(findMetric(metrics, 'container.memory.limit'), undefined);
  assert.equal(findMetric(metrics, 'container.cpu.limit'), undefined);
});

test('a host (agent in the root cgroup, which has cpu.stat but no memory.current) reports no container metrics', async () => {
  fx.write('proc/self/cgroup', '0::/\n');
  const { metrics, failures } = await collectHostMetrics(createScrapeState(), { procRoot: fx.procRoot, sysRoot: fx.sysRoot });
  assert.deepEqual(failures.map((f) => f.scraper), ['cgroup']);
  assert.equal(findMetric(metrics, 'container.cpu.time'), undefined);
});
