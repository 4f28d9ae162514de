/**
 * Starts the world for one test run and returns its teardown:
 *   1. the purge-target stand-in (Node HTTP server) on a free loopback port;
 *   2. a throw-away SQLite database seeded through the server's CLI
 *      (projects, users, memberships, purge targets);
 *   3. the built server binary (console + worker) on another free port, serving
 *      the built site; waits for GET /healthz;
 *   4. signed-in storage states for the admin and the support user;
 *   5. Prism serving Cloudflare's own OpenAPI document (`emulators/`), which a
 *      Cloudflare target on Settings can be pointed at: its URL is passed to
 *      the tests as IMGFLUSH_E2E_CLOUDFLARE_URL. The console seals provider
 *      credentials under a fixed test key (IMGFLUSH_SECRETS_KEY);
 *   6. the OpenID Connect provider (`emulators/oidc_provider.mjs`) for single
 *      sign-on, its issuer passed as IMGFLUSH_E2E_OIDC_ISSUER; it signs in
 *      `sso.user@example.com` without a form.
 *
 * Server output goes to end2end/logs/server.log. Set IMGFLUSH_E2E_KEEP=1 to keep
 * the database directory after the run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request, type FullConfig } from '@playwright/test';

import { locateServer, locateSite, OUTPUT_NAME } from './locate';
import { PurgeTargets } from './purge-targets';
import {
  ADMIN,
  DEMO,
  env,
  FAILING,
  FLAKY_TOKENS,
  OWNER,
  PASSKEY_ATTEMPTS,
  passkeyUser,
  STAFF,
  storageState,
  SUPPORT,
  TWO_STEP_PROJECTS,
  twoStepUser,
} from './world';

const LOG_DIR = path.resolve(__dirname, '..', 'logs');

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const started = Date.now();
  const dir = env.stateDir;
  const builtBin = locateServer();
  const builtSite = locateSite();
  fs.mkdirSync(dir, { recursive: true });
  try {
    return await start(dir, builtBin, builtSite, started);
  } catch (e) {
    if (process.env.IMGFLUSH_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function start(dir: string, builtBin: string, builtSite: string, started: number): Promise<() => Promise<void>> {
  // Snapshot the build: another `cargo leptos build` in the same checkout (or target dir)
  // may rewrite target/site and the binary while the tests run.
  const bin = snapshotBinary(builtBin, path.join(dir, 'server'));
  const site = path.join(dir, 'site');
  fs.cpSync(builtSite, site, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const base = new URL(env.baseURL);
  const targetsPort = Number(new URL(env.targetsURL).port);

  const targets = new PurgeTargets({ [FAILING]: 'fail' });
  await targets.start(targetsPort);
  const cloudflare = await startEmulator('prism_launch.py', ['--api', 'cloudflare']);
  process.env.IMGFLUSH_E2E_CLOUDFLARE_URL = `http://127.0.0.1:${cloudflare.port}`;
  const oidc = await startEmulator('oidc_provider.mjs', [
    '--redirect-uri',
    new URL('/login/sso/callback', base).toString(),
    '--default-login',
    'sso.user@example.com',
  ]);
  process.env.IMGFLUSH_E2E_OIDC_ISSUER = `http://127.0.0.1:${oidc.port}`;
  process.env.IMGFLUSH_SECRETS_KEY ??= 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `sqlite://${path.join(dir, 'imgflush.db')}`,
    LEPTOS_SITE_ADDR: base.host,
    LEPTOS_SITE_ROOT: site,
    LEPTOS_OUTPUT_NAME: OUTPUT_NAME,
    LEPTOS_SITE_PKG_DIR: 'pkg',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    IMGFLUSH_CONFIG: '/dev/null', // never pick up a developer's imgflush.toml
    APP__WORKER__BACKOFF_MS: '50',
    APP__WORKER__MAX_ATTEMPTS: '1',
    APP__WORKER__POLL_MS: '200',
    APP__WORKER__TARGET_TIMEOUT_SECS: '5',
    // The recording purge targets listen on loopback.
    APP__TARGETS__ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    APP__EDGE__EMBEDDED: 'false',
    // Many sign-ins from one address during a run; the throttle is tested elsewhere.
    APP__SECURITY__LOGIN_ATTEMPTS_PER_IP: '10000',
    APP__SECURITY__LOGIN_ATTEMPTS_PER_ACCOUNT: '10000',
    RUST_LOG: process.env.RUST_LOG ?? 'info,sqlx=warn',
  };
  delete serverEnv.IMGFLUSH_NEW_PASSWORD;
  delete serverEnv.IMGFLUSH_TARGET_SECRET;

  const cli = (...args: string[]) => {
    try {
      execFileSync(bin, args, { env: serverEnv, cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`server ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    }
  };
  try {
    seed(cli, targets);
  } catch (e) {
    await targets.stop();
    cloudflare.stop();
    oidc.stop();
    throw e;
  }

  const log = fs.openSync(path.join(LOG_DIR, 'server.log'), 'w');
  const server: ChildProcess = spawn(bin, [], { env: serverEnv, cwd: dir, stdio: ['ignore', log, log] });
  let exited: string | undefined;
  server.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });

  const teardown = async () => {
    if (!exited) {
      server.kill('SIGTERM');
      const gone = await waitFor(() => exited !== undefined, 10_000);
      if (!gone) server.kill('SIGKILL');
    }
    fs.closeSync(log);
    await targets.stop();
    cloudflare.stop();
    oidc.stop();
    if (process.env.IMGFLUSH_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept the test database in ${dir}`);
  };

  try {
    const up = await waitFor(async () => {
      if (exited) return true;
      try {
        const r = await fetch(new URL('/healthz', base), { signal: AbortSignal.timeout(1000) });
        return r.ok && (await r.text()).trim() === 'ok';
      } catch {
        return false;
      }
    }, 60_000);
    if (exited || !up) {
      throw new Error(
        `the server did not come up (${exited ?? 'no answer on /healthz within 60 s'}); ` +
          `last lines of ${path.join(LOG_DIR, 'server.log')}:\n${tail(path.join(LOG_DIR, 'server.log'))}`,
      );
    }
    await signIn(ADMIN, storageState('admin'));
    await signIn(SUPPORT, storageState('support'));
    await signIn(OWNER, storageState('owner'));
    await signIn(STAFF, storageState('staff'));
  } catch (e) {
    await teardown();
    throw e;
  }
  console.log(
    `[e2e] server ${builtBin} on ${env.baseURL}, site ${builtSite}, ` +
      `purge targets on ${targets.base}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return teardown;
}

/** Projects first (`demo` sorts first, so `/` lands there), then people, then targets. */
function seed(cli: (...args: string[]) => void, targets: PurgeTargets): void {
  cli('project', 'add', '--token', DEMO, '--name', 'Demo project', '--origin-host', 'sample.li');
  cli('project', 'add', '--token', FAILING, '--name', 'Always failing');
  for (const t of FLAKY_TOKENS) cli('project', 'add', '--token', t, '--name', `Flaky (${t})`);
  cli('user', 'add', '--email', ADMIN.email, '--role', 'admin', '--project', DEMO, '--password', ADMIN.password);
  for (const t of [FAILING, ...FLAKY_TOKENS]) cli('user', 'add', '--email', ADMIN.email, '--role', 'admin', '--project', t);
  cli('user', 'add', '--email', SUPPORT.email, '--role', 'support', '--project', DEMO, '--password', SUPPORT.password);
  cli('user', 'add', '--email', SUPPORT.email, '--role', 'support', '--project', FAILING);
  // The owner and the staff engineer see every project through their instance role;
  // their memberships only make `/` land on demo.
  cli('user', 'add', '--email', OWNER.email, '--role', 'support', '--project', DEMO, '--password', OWNER.password);
  cli('user', 'role', '--email', OWNER.email, '--instance', 'owner');
  cli('user', 'add', '--email', STAFF.email, '--role', 'support', '--project', DEMO, '--password', STAFF.password);
  cli('user', 'role', '--email', STAFF.email, '--instance', 'staff');
  for (const p of TWO_STEP_PROJECTS) {
    const u = twoStepUser(p);
    cli('user', 'add', '--email', u.email, '--role', 'editor', '--project', DEMO, '--password', u.password);
  }
  for (const a of PASSKEY_ATTEMPTS) {
    const u = passkeyUser(a);
    cli('user', 'add', '--email', u.email, '--role', 'editor', '--project', DEMO, '--password', u.password);
  }
  cli('target', 'add', '--project', DEMO, '--kind', 'edge', '--name', 'edge-1', '--url', targets.url('demo-edge'), '--secret', 'edge-secret');
  cli('target', 'add', '--project', DEMO, '--kind', 'varnish', '--name', 'varnish-1', '--url', targets.url('demo-varnish'), '--secret', 'ban-secret');
  cli('target', 'add', '--project', DEMO, '--kind', 'webhook', '--name', 'hook-1', '--url', targets.url('demo-hook'));
  cli('target', 'add', '--project', FAILING, '--kind', 'webhook', '--name', 'broken-hook', '--url', targets.url(FAILING));
  for (const t of FLAKY_TOKENS) {
    cli('target', 'add', '--project', t, '--kind', 'edge', '--name', 'edge-1', '--url', targets.url(`${t}-edge`));
    cli('target', 'add', '--project', t, '--kind', 'webhook', '--name', 'flaky-hook', '--url', targets.url(t));
  }
}

/** A hard link keeps this build's inode even if cargo replaces the file; a copy when linking fails. */
function snapshotBinary(from: string, to: string): string {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
  return to;
}

async function signIn(user: { email: string; password: string }, file: string): Promise<void> {
  const ctx = await request.newContext({ baseURL: env.baseURL });
  try {
    const r = await ctx.post('/login', { form: { email: user.email, password: user.password, next: '/' }, maxRedirects: 0 });
    const to = r.headers()['location'];
    if (r.status() < 300 || r.status() >= 400 || to !== '/') {
      throw new Error(`signing in ${user.email} answered ${r.status()} → ${to ?? '(no Location)'}`);
    }
    await ctx.storageState({ path: file });
  } finally {
    await ctx.dispose();
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * An emulator from `emulators/` (the venv's Python, or Node for a `.mjs`
 * launcher: a real interpreter, so SIGTERM reaches it).
 */
async function startEmulator(script: string, args: string[]): Promise<{ port: number; stop: () => void }> {
  const venv = process.env.IMGFLUSH_VENV ?? path.join(process.env.HOME ?? '/root', '.cache/imgflush/venv');
  const root = path.resolve(__dirname, '..', '..');
  const interpreter = script.endsWith('.mjs') ? process.execPath : path.join(venv, 'bin/python');
  const child = spawn(interpreter, [path.join(root, 'emulators', script), '--port', '0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready: ${out}`)));
    setTimeout(() => reject(new Error(`${script} was not ready within 60 s`)), 60_000);
  });
  return { port, stop: () => child.kill('SIGTERM') };
}
