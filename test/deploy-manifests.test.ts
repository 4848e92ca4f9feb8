// The compose file and Kubernetes manifests cannot run here (no Docker engine, no cluster);
// this checks they stay written to the settings the tested processes accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/index.ts';
import { COMPONENTS } from '../src/stack/index.ts';

const root = path.resolve(import.meta.dirname, '..');

test('every OllyStack service of the compose file runs a known component on a valid configuration', () => {
  const compose = parse(fs.readFileSync(path.join(root, 'deploy/docker-compose.yaml'), 'utf8'), { merge: true });
  const services = Object.entries(compose.services as Record<string, { command?: string[]; environment?: Record<string, string>; image?: string }>);
  const ours = services.filter(([, s]) => s.image === 'ollystack:dev');
  assert.deepEqual(ours.map(([name]) => name).sort(), [...COMPONENTS].sort(), 'one compose service per component');
  for (const [name, service] of ours) {
    assert.ok((COMPONENTS as readonly string[]).includes(service.command![0]), `${name}: unknown command ${service.command}`);
    const env = { ...service.environment!, OLLYSTACK_API_KEY: 'k'.repeat(32) };
    const config = loadConfig({ env });
    assert.match(config.bus.url, /^kafka:\/\/kafka:9092$/);
    assert.match(config.store.url!, /^http:\/\/.*@clickhouse:8123\//);
    assert.equal(config.redis.url, 'redis://redis:6379');
    // Every engine the configuration names is a service of the file.
    for (const host of ['kafka', 'clickhouse', 'redis']) assert.ok(compose.services[host], `compose lacks ${host}`);
  }
});

test('the Kubernetes ConfigMap is a valid configuration and the Deployments run known components', () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(root, 'deploy/k8s/ollystack.yaml'), 'utf8')).map((d) => d.toJS());
  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-config-'));
  try {
    const file = path.join(dir, 'ollystack.yaml');
    fs.writeFileSync(file, configMap.data['ollystack.yaml']);
    const config = loadConfig({ file, env: {} });
    assert.equal(config.bus.url, 'kafka://kafka:9092');
    assert.equal(config.bus.partitions, 32);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  const commands = deployments.map((d) => d.spec.template.spec.containers[0].args[0]);
  assert.deepEqual([...commands].sort(), [...COMPONENTS].sort());
  for (const d of deployments) {
    const container = d.spec.template.spec.containers[0];
    const ports = Object.fromEntries((container.ports as Array<{ name: string; containerPort: number }>).map((p) => [p.name, p.containerPort]));
    const defaults = loadConfig({ env: {} });
    if (container.args[0] === 'gateway') {
      assert.equal(ports['otlp-http'], defaults.gateway.httpPort);
      assert.equal(ports['otlp-grpc'], defaults.gateway.grpcPort);
    }
    if (container.args[0] === 'api') assert.equal(ports.http, defaults.api.port);
    else assert.equal(ports.ops, defaults.ops.port);
  }
});

test('the agent DaemonSet runs the single-file agent on a valid agent configuration', () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(root, 'deploy/k8s/agent.yaml'), 'utf8')).map((d) => d.toJS());
  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  const daemonSet = docs.find((d) => d.kind === 'DaemonSet');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-agent-'));
  try {
    const file = path.join(dir, 'agent.yaml');
    fs.writeFileSync(file, configMap.data['agent.yaml']);
    const config = loadConfig({ file, env: {} });
    assert.equal(config.agent.endpoint, 'http://gateway.ollystack.svc:4318');
    assert.deepEqual(config.agent.logs.include, ['/var/log/pods/**/*.log']);
    const container = daemonSet.spec.template.spec.containers[0];
    // The single-file agent, as the image builds it (deploy/Dockerfile runs scripts/build-agent.ts).
    assert.deepEqual(container.command.slice(0, 3), ['node', 'dist/ollystack-agent.mjs', 'agent']);
    const dockerfile = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
    assert.match(dockerfile, /RUN node scripts\/build-agent\.ts/);
    assert.match(dockerfile, /COPY --from=agent-build \/app\/dist\/ollystack-agent\.mjs \.\/dist\/ollystack-agent\.mjs/);
    const mounted = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    assert.ok(mounted.includes(config.dataDir), 'the buffer folder survives restarts on a hostPath');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
