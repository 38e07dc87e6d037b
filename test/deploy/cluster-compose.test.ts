/**
 * deploy/cluster/compose.yaml cannot be run here (no Docker engine): it is parsed (the `yaml`
 * package, merge keys on) and checked — every andon node points at the compose file's redis
 * service, mounts a config that the real validator accepts (store on Redis, one prefix) with its
 * own nodeId, has a healthcheck on /health/ready at its config's ops port, a stop_grace_period above
 * its config's drain budget, and is a server in haproxy.cfg (HTTP port, health check on /health/ready
 * at the ops port); redis has a healthcheck the nodes wait for, and the proxy publishes the MCP port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CLUSTER, composeDurationMs, drainBudgetMs, nodeConfig } from './cluster-helpers.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  stop_signal?: string;
  volumes?: string[];
  ports?: string[];
}

const compose = parseYaml(readFileSync(join(CLUSTER, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const andonNodes = Object.entries(services).filter(([, s]) => s.image?.startsWith('andon-mcp'));
const haproxy = readFileSync(join(CLUSTER, 'haproxy.cfg'), 'utf8');

/** The config a service mounts as /etc/andon/andon.yaml (the image's ANDON_CONFIG), resolved on the host. */
function mountedConfig(s: Service): string {
  const v = (s.volumes ?? []).find((x) => x.split(':')[1] === '/etc/andon/andon.yaml');
  assert.ok(v, 'the node mounts its config as /etc/andon/andon.yaml');
  return resolve(CLUSTER, v.split(':')[0]!);
}

test('three andon nodes, a redis and a proxy; every node points at the redis service and waits for it', () => {
  assert.equal(andonNodes.length, 3, `three andon nodes: ${andonNodes.map(([n]) => n).join(', ')}`);
  assert.ok(services.redis, 'a redis service');
  assert.ok(services.redis!.healthcheck?.test.join(' ').includes('redis-cli ping'));
  for (const [name, s] of andonNodes) {
    const url = new URL(s.environment!.ANDON_REDIS_URL!);
    assert.equal(url.protocol, 'redis:');
    assert.equal(url.hostname, 'redis', `${name}: ANDON_REDIS_URL points at the redis service`);
    assert.deepEqual(s.depends_on, { redis: { condition: 'service_healthy' } }, `${name} starts once redis answers`);
    assert.equal(s.build?.dockerfile, 'deploy/docker/Dockerfile');
    assert.equal(resolve(CLUSTER, s.build!.context), resolve(CLUSTER, '../..'), 'built from the repository root');
  }
  assert.ok(services.proxy, 'a proxy service');
  assert.deepEqual(services.proxy!.ports, ['127.0.0.1:3000:3000']);
  assert.deepEqual([...(services.proxy!.depends_on as string[])].sort(), andonNodes.map(([n]) => n).sort());
});

test('each node: a valid config on Redis with its own nodeId, a healthcheck on /health/ready, stop_grace_period above the drain budget', () => {
  const ids = new Set<string>();
  for (const [name, s] of andonNodes) {
    const c = nodeConfig(mountedConfig(s));
    assert.equal(c.store.kind, 'redis', `${name}: store on Redis`);
    assert.equal(c.store.urlEnv, 'ANDON_REDIS_URL', `${name}: the URL from the variable the service sets`);
    assert.equal(c.store.url, undefined);
    assert.equal(c.store.prefix, 'andon-example');
    assert.ok(c.store.nodeId, `${name}: an explicit nodeId`);
    ids.add(c.store.nodeId!);
    assert.equal(c.http.host, '0.0.0.0', `${name}: reachable from the proxy`);
    assert.equal(c.ops.host, '0.0.0.0', `${name}: health reachable from the proxy`);
    const probe = s.healthcheck!.test.join(' ');
    assert.match(probe, new RegExp(`http://127\\.0\\.0\\.1:${c.ops.port}/health/ready`), `${name}: healthcheck on /health/ready at ops port ${c.ops.port}`);
    assert.ok(s.stop_grace_period, `${name}: stop_grace_period`);
    assert.ok(composeDurationMs(s.stop_grace_period!) > drainBudgetMs(c), `${name}: stop_grace_period ${s.stop_grace_period} must exceed the drain budget ${drainBudgetMs(c)} ms`);
    assert.equal(s.stop_signal, 'SIGTERM');
    assert.deepEqual(s.command, ['start', '--config', '/etc/andon/andon.yaml']);
    // The proxy sends MCP to the node's HTTP port and checks readiness on its ops port.
    assert.match(haproxy, new RegExp(`^\\s*server ${name} ${name}:${c.http.port}\\b`, 'm'), `${name} is a server in haproxy.cfg`);
    assert.match(haproxy, new RegExp(`check port ${c.ops.port}\\b`), 'haproxy checks the ops port');
  }
  assert.equal(ids.size, andonNodes.length, `distinct node ids: ${[...ids].join(', ')}`);
  assert.match(haproxy, /balance roundrobin/);
  assert.match(haproxy, /option httpchk GET \/health\/ready/);
});
