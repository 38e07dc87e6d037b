/**
 * deploy/docker/Dockerfile, checked without a Docker engine (none runs here): the instructions that
 * matter are there, every COPY source exists in the build context (after .dockerignore) or is made
 * by the build stage, the build stage's sources import nothing outside themselves and only
 * production dependencies at run time; then /app is laid out as the runtime stage would have it
 * (production node_modules only), ENTRYPOINT + CMD run there with the image's ENV and config, the
 * HEALTHCHECK command passes against it (and fails without it), and STOPSIGNAL drains it to exit 0.
 * Not proven: that `docker build` succeeds (base image, npm ci in the image) — no image is built.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join, posix, relative } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/node-process.js';
import { withTimeout } from '../helpers/wait.js';
import { cleanEnv, copyTarget, dockerIgnored, envOf, execForm, layOutRuntimeStage, parseCopy, parseDockerfile, readDockerignore, run, startOnFreePorts, type Stage } from './deploy-helpers.js';

const DOCKERFILE = join(ROOT, 'deploy/docker/Dockerfile');
const { stages } = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages[stages.length - 1]!;
const ignore = readDockerignore();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

const tmp = mkdtempSync(join(tmpdir(), 's4-deploy-docker-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const all = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);
const last = (s: Stage, op: string) => {
  const list = all(s, op);
  assert.ok(list.length > 0, `the runtime stage has ${op}`);
  return list[list.length - 1]!.args;
};
const imageEnv = envOf(runtime);
/** The config file the image runs with: ANDON_CONFIG, copied in from the context. */
function imageConfigSource(): string {
  const target = imageEnv.ANDON_CONFIG;
  assert.ok(target, 'the image sets ANDON_CONFIG');
  let workdir = '/';
  for (const ins of runtime.instructions) {
    if (ins.op === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
    if (ins.op !== 'COPY') continue;
    const c = parseCopy(ins);
    const src = c.sources.find((s) => copyTarget(workdir, s, c.dest) === target);
    if (src && c.from === undefined) return join(ROOT, src);
  }
  return assert.fail(`no COPY from the context puts ${target} in the image`);
}
const config = loadConfig({ file: imageConfigSource(), env: {} }).config;

test('two stages on a Node 20+ bookworm-slim base; the runtime stage is non-root, drains on STOPSIGNAL, checks its health', () => {
  assert.equal(stages.length, 2);
  for (const s of stages) assert.match(s.from, /^node:(\$\{NODE_VERSION\}|2\d)-bookworm-slim$/, s.from);
  const user = last(runtime, 'USER').split(':')[0]!;
  assert.ok(/^\d+$/.test(user), 'USER is numeric (Kubernetes runAsNonRoot can only check a numeric user)');
  assert.notEqual(Number(user), 0, 'USER is not root');
  assert.equal(last(runtime, 'STOPSIGNAL'), 'SIGTERM');
  assert.ok(execForm(last(runtime, 'VOLUME'), 'VOLUME').includes(config.stateDir), 'the state directory is a VOLUME');
  assert.equal(imageEnv.ANDON_STATE_DIR, config.stateDir, 'ENV ANDON_STATE_DIR is the config\'s stateDir');
  const exposed = last(runtime, 'EXPOSE').split(/\s+/).map(Number);
  assert.deepEqual(exposed.sort(), [config.http.port, config.ops.port].sort(), 'EXPOSE the MCP and ops ports of the config');
  assert.equal(config.http.host, '0.0.0.0', 'MCP listener reachable from outside the container');
  assert.equal(config.ops.host, '0.0.0.0', 'ops listener (health checks, probes) reachable from outside the container');
  const entry = execForm(last(runtime, 'ENTRYPOINT'), 'ENTRYPOINT');
  assert.deepEqual(entry, ['node', 'dist/src/cli/andon.js']);
  assert.ok(all(build, 'RUN').some((r) => /npm ci\b/.test(r.args)) && all(build, 'RUN').some((r) => /npm prune --omit=dev/.test(r.args)), 'npm ci, then prune the dev dependencies');
});

test('every COPY source is in the build context (not excluded by .dockerignore) or made by the build stage', () => {
  const built = new Set<string>();
  const buildRuns = all(build, 'RUN').map((r) => r.args).join('\n');
  for (const s of stages) {
    for (const ins of all(s, 'COPY')) {
      const c = parseCopy(ins);
      for (const src of c.sources) {
        if (c.from === undefined) {
          assert.ok(existsSync(join(ROOT, src)), `line ${ins.line}: COPY ${src}: no such file in the repository`);
          assert.ok(!dockerIgnored(ignore, src), `line ${ins.line}: COPY ${src}: excluded by .dockerignore`);
          if (s === build) built.add(posix.join('/app', src));
          continue;
        }
        assert.equal(c.from, 'build', `line ${ins.line}`);
        if (built.has(src)) continue;
        if (src === '/app/node_modules') assert.match(buildRuns, /npm ci\b/, 'node_modules comes from npm ci');
        else {
          // dist/<dir> is tsc's output (outDir dist, rootDir .) of a source dir the build stage copied.
          const m = /^\/app\/dist\/(.+)$/.exec(src);
          assert.ok(m, `line ${ins.line}: ${src} is neither copied into nor made by the build stage`);
          assert.ok(built.has(`/app/${m[1]}`), `line ${ins.line}: ${src} needs /app/${m[1]} in the build stage`);
          assert.match(buildRuns, /tsc -p tsconfig\.json/);
        }
      }
    }
  }
  // The context is what it should be: no node_modules, no dist, no git history.
  for (const p of ['node_modules', 'dist', '.git', '.andon']) assert.ok(dockerIgnored(ignore, p), `.dockerignore excludes ${p}`);
});

/** Every .ts file under `dir` (relative to the repository). */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => posix.join(dir, f.split('\\').join('/')));
}

test('the build stage compiles a closed set: src/ and examples/ import only each other, node built-ins and production dependencies', () => {
  const copied = all(build, 'COPY')
    .map(parseCopy)
    .flatMap((c) => c.sources)
    .filter((s) => statSync(join(ROOT, s)).isDirectory());
  assert.deepEqual(copied.sort(), ['examples', 'src']);
  const files = copied.flatMap(tsFiles);
  const have = new Set(files);
  const problems: string[] = [];
  const builtins = new Set(builtinModules);
  const seen = new Set<string>();
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|^import\s+'([^']+)'/gm)) {
      const spec = m[3] ?? m[4] ?? m[5]!;
      const typeOnly = m[2] !== undefined;
      if (spec.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(f), spec)).replace(/\.js$/, '.ts');
        if (!have.has(target) && !spec.endsWith('.json')) problems.push(`${f}: ${spec} is outside the copied sources`);
        continue;
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (spec.startsWith('node:') || builtins.has(name) || typeOnly) continue;
      seen.add(name);
      if (!(name in pkg.dependencies)) problems.push(`${f}: imports ${name}, not a production dependency (npm prune --omit=dev removes it)`);
    }
  }
  assert.deepEqual(problems, []);
  for (const dep of ['yaml', 'commander', 'pino', 'ws']) assert.ok(seen.has(dep), `the import scan found ${dep}`);
  assert.ok(files.includes('src/cli/andon.ts'), 'the ENTRYPOINT\'s dist/src/cli/andon.js is compiled from src/cli/andon.ts');
});

test('the runtime stage\'s ENTRYPOINT + CMD serve from /app with production dependencies only; HEALTHCHECK passes; STOPSIGNAL exits 0', async () => {
  const root = join(tmp, 'image');
  const { workdir, host } = layOutRuntimeStage(runtime, root);
  assert.ok(existsSync(join(host(workdir), 'node_modules/yaml')), 'a production dependency is there');
  assert.ok(!existsSync(join(host(workdir), 'node_modules/typescript')), 'a dev dependency is not');
  const state = host(config.stateDir);
  mkdirSync(state, { recursive: true });
  // Container paths in ENV moved under the stand-in root; ports moved to free ones (as `docker run -e` would).
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(imageEnv)) env[k] = v.startsWith('/') ? host(v) : v;
  env.ANDON_ADMIN_TOKEN = '';
  const argv = [...execForm(last(runtime, 'ENTRYPOINT'), 'ENTRYPOINT'), ...execForm(last(runtime, 'CMD'), 'CMD')];
  const node = await startOnFreePorts((port, opsPort) => {
    env.PORT = String(port);
    env.OPS_PORT = String(opsPort);
    return { argv, cwd: host(workdir), env: cleanEnv(tmp, env) };
  });
  const { opsPort } = node;
  try {
    assert.match(node.stderr(), new RegExp(`config: ${host('/etc/andon/andon.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the image\'s config file was read');
    // HEALTHCHECK CMD ["node", "-e", ...] in exec form, with the container's environment.
    const hc = /^(?:--\S+\s+)*CMD\s+(.*)$/.exec(last(runtime, 'HEALTHCHECK'));
    assert.ok(hc, 'HEALTHCHECK CMD in exec form');
    const [bin, ...args] = execForm(hc[1]!, 'HEALTHCHECK CMD');
    assert.equal(bin, 'node', 'no curl in the slim image: the check runs node');
    const ok = await run(process.execPath, args, { cwd: host(workdir), env: cleanEnv(tmp, env), timeoutMs: 10_000 });
    assert.equal(ok.code, 0, `HEALTHCHECK failed against the running node: ${ok.stderr}`);
    const closed = await freePort();
    const bad = await run(process.execPath, args, { cwd: host(workdir), env: cleanEnv(tmp, { ...env, OPS_PORT: String(closed) }), timeoutMs: 10_000 });
    assert.equal(bad.code, 1, 'HEALTHCHECK fails when nothing answers');
    // Reachable beyond loopback (the container's published ports), where this machine has an address.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      const res = await fetch(`http://${external.address}:${opsPort}/health/live`);
      assert.equal(res.status, 200, `ops listener on ${external.address}`);
    }
    // The dashboard's files are where dist/src expects them (/app/dashboard).
    const dash = await fetch(`http://127.0.0.1:${opsPort}/dashboard/assets/app.js`);
    assert.equal(dash.status, 200, 'dashboard file served from the image layout');
    await dash.text();
    assert.ok(existsSync(join(state, 'admin-token')), 'the admin token was generated into the VOLUME');
    node.child.kill(last(runtime, 'STOPSIGNAL') as NodeJS.Signals);
    const r = await withTimeout(node.exited, config.drain.graceMs + 2 * config.drain.haltMs + 5000, 'the node to drain and exit');
    assert.deepEqual(r, { code: 0, signal: null }, node.stderr());
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL');
  }
  assert.equal(relative(root, host(workdir)), 'app');
});
