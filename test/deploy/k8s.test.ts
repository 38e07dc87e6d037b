/**
 * deploy/k8s: every manifest parses and validates against the Kubernetes schemas (kubernetes-models),
 * the kustomization lists every file, the ConfigMap's config passes the real loader, the numbers
 * agree (container ports = config ports, probe ports and Service targetPorts name container ports,
 * terminationGracePeriodSeconds > preStop + drain budget, runAsUser = the image's USER), and the pod's
 * command — the image's ENTRYPOINT + the container's args, with the container's env and the
 * ConfigMap's file — serves every probe path with 200 and drains to exit 0 on SIGTERM.
 * Not proven: scheduling, the PVC, the Secret (the test gives its own token), kube-proxy timing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/paths.js';
import { withTimeout } from '../helpers/wait.js';
import { changed, cleanEnv, execForm, layOutRuntimeStage, parseDockerfile, snapshot, startOnFreePorts } from './deploy-helpers.js';

const K8S = join(ROOT, 'deploy/k8s');

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [k: string]: any;
}

const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f));
const docs: Array<{ file: string; obj: Obj }> = [];
for (const file of files) {
  for (const d of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const obj = d.toJS() as Obj | null;
    if (obj) docs.push({ file, obj });
  }
}
const find = (kind: string, name?: string): Obj => {
  const o = docs.find((d) => d.obj.kind === kind && (name === undefined || d.obj.metadata.name === name));
  assert.ok(o, `a ${kind}${name ? ` ${name}` : ''} in deploy/k8s`);
  return o.obj;
};
const workload = find('StatefulSet', 'andon');
const pod = workload.spec.template.spec;
const container = pod.containers.find((c: { name: string }) => c.name === 'andon');
const configMap = find('ConfigMap', 'andon-config');
const envValue = (name: string): string | undefined => container.env.find((e: { name: string }) => e.name === name)?.value;
const configPath = envValue('ANDON_CONFIG')!;

const tmp = mkdtempSync(join(tmpdir(), 's4-deploy-k8s-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// The ConfigMap's file as the pod sees it, through the real loader (no environment).
const configFile = join(tmp, posix.basename(configPath));
writeFileSync(configFile, configMap.data[posix.basename(configPath)]);
const config = loadConfig({ file: configFile, env: {} }).config;

test('every manifest validates against the Kubernetes schemas; the kustomization lists every file', async () => {
  for (const { file, obj } of docs) {
    if (obj.apiVersion.startsWith('kustomize.config.k8s.io/')) continue;
    // kubernetes-models/<group>/<version>/<Kind>; the core group is `v1`.
    const mod = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<string, new (o: unknown) => { validate(): void }>;
    const Model = mod[obj.kind] ?? mod.default;
    assert.ok(Model, `${file}: no model for ${obj.apiVersion} ${obj.kind}`);
    assert.doesNotThrow(() => new Model(obj).validate(), `${file}: ${obj.kind} ${obj.metadata.name}`);
  }
  // The check is real: a probe port of the wrong type is refused.
  const { StatefulSet } = await import('kubernetes-models/apps/v1/StatefulSet');
  const broken = structuredClone(workload);
  broken.spec.template.spec.containers[0].livenessProbe.httpGet.port = { name: 'ops' };
  assert.throws(() => new StatefulSet(broken as never).validate());
  const kustomization = find('Kustomization');
  assert.deepEqual([...(kustomization.resources as string[])].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
});

test('the ConfigMap\'s config is valid, binds 0.0.0.0 and keeps its state on the claim; the container mounts both', () => {
  assert.equal(config.http.host, '0.0.0.0', 'MCP listener reachable through the Service');
  assert.equal(config.ops.host, '0.0.0.0', 'ops listener reachable by the kubelet\'s probes (pod IP)');
  const mounts = container.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  const configMount = mounts.find((m) => m.mountPath === posix.dirname(configPath))!;
  assert.ok(configMount, `a volume mounted at ${posix.dirname(configPath)}`);
  assert.equal(pod.volumes.find((v: { name: string }) => v.name === configMount.name).configMap.name, configMap.metadata.name);
  assert.equal(envValue('ANDON_STATE_DIR'), config.stateDir);
  const stateMount = mounts.find((m) => m.mountPath === config.stateDir)!;
  assert.ok(stateMount && !stateMount.readOnly, 'the state directory is a writable mount');
  assert.ok((workload.spec.volumeClaimTemplates as Array<{ metadata: { name: string } }>).some((t) => t.metadata.name === stateMount.name), 'the state directory is the pod\'s PersistentVolumeClaim');
  assert.equal(workload.spec.replicas, 1, 'the file store is one process\'s: more replicas need store.kind redis');
  assert.equal(config.store.kind, 'file');
});

test('ports and probes: container ports are the config\'s, probes and Services hit named container ports', () => {
  const ports = new Map<string, number>((container.ports as Array<{ name: string; containerPort: number }>).map((p) => [p.name, p.containerPort]));
  assert.equal(ports.get('mcp'), config.http.port);
  assert.equal(ports.get('ops'), config.ops.port);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const port = container[probe].httpGet.port as string | number;
    assert.equal(typeof port === 'string' ? ports.get(port) : port, config.ops.port, `${probe} on the ops port`);
  }
  assert.equal(container.livenessProbe.httpGet.path, '/health/live');
  assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
  for (const d of docs.filter((x) => x.obj.kind === 'Service')) {
    for (const p of d.obj.spec.ports as Array<{ targetPort: string }>) assert.ok(ports.has(p.targetPort), `Service ${d.obj.metadata.name} targets container port ${p.targetPort}`);
    assert.deepEqual(d.obj.spec.selector, workload.spec.template.metadata.labels);
  }
});

test('terminationGracePeriodSeconds > preStop sleep + drain grace + halt budget + 2 s', () => {
  const preStop = container.lifecycle.preStop.exec.command as string[];
  assert.equal(preStop[0], 'sleep');
  const preStopMs = Number(preStop[1]) * 1000;
  assert.ok(preStopMs >= 1000, 'preStop gives the load balancer time');
  const budgetMs = preStopMs + config.drain.graceMs + Math.min(config.drain.haltMs, 2000) + config.drain.haltMs;
  const tgpMs = pod.terminationGracePeriodSeconds * 1000;
  assert.ok(tgpMs > config.drain.graceMs + preStopMs, 'terminationGracePeriodSeconds > drain grace + preStop');
  assert.ok(tgpMs > budgetMs, `terminationGracePeriodSeconds ${tgpMs} ms > ${budgetMs} ms`);
});

test('securityContext: non-root as the image\'s USER, read-only root, no privilege escalation, no capabilities; the admin token from a Secret', () => {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8'));
  const user = stages[stages.length - 1]!.instructions.filter((i) => i.op === 'USER').pop()!.args.split(':')[0];
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, Number(user));
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  const token = container.env.find((e: { name: string }) => e.name === 'ANDON_ADMIN_TOKEN');
  assert.ok(token?.valueFrom?.secretKeyRef?.name, 'ANDON_ADMIN_TOKEN from a Secret');
  assert.match(readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8'), new RegExp(`create secret generic ${token.valueFrom.secretKeyRef.name} --from-literal=${token.valueFrom.secretKeyRef.key}=`), 'docs/deployment.md shows how to create the Secret');
  assert.ok(container.resources.limits.memory && container.resources.requests.cpu);
});

test('the pod\'s command (image ENTRYPOINT + args, container env, ConfigMap file) answers every probe with 200 and drains to exit 0', async () => {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1]!;
  const { workdir, host } = layOutRuntimeStage(runtime, join(tmp, 'image'));
  const state = host(config.stateDir);
  const entry = execForm(runtime.instructions.filter((i) => i.op === 'ENTRYPOINT').pop()!.args, 'ENTRYPOINT');
  assert.equal(container.command, undefined, 'the image\'s ENTRYPOINT runs');
  const argv = [...entry, ...(container.args as string[])];
  mkdirSync(state, { recursive: true });
  const env: Record<string, string> = {};
  for (const e of container.env as Array<{ name: string; value?: string }>) if (e.value !== undefined) env[e.name] = e.value;
  env.ANDON_CONFIG = configFile;
  env.ANDON_STATE_DIR = state;
  env.ANDON_ADMIN_TOKEN = 'k8s-secret-token-for-the-test';
  // readOnlyRootFilesystem: whatever the node writes must be on a volume (state, /tmp).
  const imageRoot = join(tmp, 'image');
  const before = snapshot(imageRoot, [state]);
  const node = await startOnFreePorts((port, opsPort) => {
    env.PORT = String(port);
    env.OPS_PORT = String(opsPort);
    return { argv, cwd: host(workdir), env: cleanEnv(tmp, env) };
  });
  const { opsPort } = node;
  try {
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const res = await fetch(`http://127.0.0.1:${opsPort}${container[probe].httpGet.path as string}`);
      assert.equal(res.status, 200, `${probe} ${container[probe].httpGet.path}: ${await res.text()}`);
    }
    // The Secret's token opens the admin API; a halt is state, persisted on the state volume.
    const halt = await fetch(`http://127.0.0.1:${opsPort}/admin/components/tool:divide/halt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.ANDON_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'deploy test' }),
    });
    assert.equal(halt.status, 200, `halt with the Secret's token: ${await halt.text()}`);
    node.child.kill('SIGTERM');
    const r = await withTimeout(node.exited, pod.terminationGracePeriodSeconds * 1000, 'the node to drain within terminationGracePeriodSeconds');
    assert.deepEqual(r, { code: 0, signal: null }, node.stderr());
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
  }
  assert.deepEqual(changed(before, snapshot(imageRoot, [state])), [], 'nothing written outside the state volume');
  assert.ok(readdirSync(state).length > 0, 'state written to the state volume');
});
