/**
 * The newcomer's demo flow, on a console of its own started as `./scripts/start.sh`
 * starts it (embedded edge and demo origin on, a fresh database, first-start admin
 * and `demo` project): open the edge URL, swap the origin image with
 * `server demo swap`, still see the cached image, invalidate its path on the
 * Invalidation page, see Done with the edge's count, and get the new image.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePortSync } from '../harness/free-port';
import { OUTPUT_NAME } from '../harness/locate';
import { env } from '../harness/world';
import { expect, refreshUntil, signIn, submitOn, test, waitHydrated } from './fixtures';

const OWNER = { email: 'newcomer@example.com', password: 'demo-Newcomer-pass-1' };

// Ports chosen when this file loads, so the tests' baseURL can be this console.
const [consolePort, edgePort, adminPort, originPort] = [freePortSync(), freePortSync(), freePortSync(), freePortSync()];
const base = `http://127.0.0.1:${consolePort}`;
const edge = `http://127.0.0.1:${edgePort}`;
const origin = `127.0.0.1:${originPort}`;
let server: ChildProcess | undefined;
let dir = '';
let serverEnv: NodeJS.ProcessEnv = {};

test.use({ baseURL: base, storageState: { cookies: [], origins: [] } });

test.describe('the embedded demo', () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled === false, 'one run is enough: the flow has no JS-only step');

  test.beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgflush-demo-'));
    serverEnv = {
      ...process.env,
      DATABASE_URL: `sqlite://${path.join(dir, 'imgflush.db')}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${consolePort}`,
      LEPTOS_SITE_ROOT: path.join(env.stateDir, 'site'),
      LEPTOS_OUTPUT_NAME: OUTPUT_NAME,
      LEPTOS_SITE_PKG_DIR: 'pkg',
      ADMIN_EMAIL: OWNER.email,
      ADMIN_PASSWORD: OWNER.password,
      IMGFLUSH_CONFIG: '/dev/null',
      APP__EDGE__EMBEDDED: 'true',
      APP__EDGE__EMBEDDED_ADDR: `127.0.0.1:${edgePort}`,
      APP__EDGE__EMBEDDED_ADMIN_ADDR: `127.0.0.1:${adminPort}`,
      APP__EDGE__DEMO_ORIGIN_ADDR: origin,
      APP__EDGE__DATA_DIR: path.join(dir, 'data'),
      APP__TARGETS__ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
      APP__WORKER__POLL_MS: '200',
    };
    const log = fs.openSync(path.join(dir, 'server.log'), 'w');
    server = spawn(path.join(env.stateDir, 'server'), [], { env: serverEnv, cwd: dir, stdio: ['ignore', log, log] });
    await expect(async () => {
      const [c, e] = await Promise.all([fetch(`${base}/readyz`), fetch(`${edge}/healthz`)]);
      expect(c.ok && e.ok).toBe(true);
    }, 'the console and its embedded edge come up').toPass({ timeout: 60_000 });
  });

  test.afterAll(async () => {
    server?.kill('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('swap the origin image, see the cached one, invalidate, see the new one', async ({ page, js, allowConsoleError }) => {
    allowConsoleError(/favicon/);
    const image = `${edge}/demo/${origin}/sample.jpg?w=400`;
    const get = async () => {
      const r = await page.request.get(image);
      expect(r.status(), image).toBe(200);
      return { cache: r.headers()['x-cache'], body: await r.body() };
    };
    // The edge learns the demo project's settings within its poll interval.
    await expect(async () => expect((await page.request.get(image)).status()).toBe(200)).toPass({ timeout: 15_000 });
    const first = await get();
    expect(first.cache).toBe('HIT');

    // The page shows the image the edge serves.
    await page.goto(image);
    const width = await page.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth);
    expect(width).toBe(400);

    execFileSync(path.join(env.stateDir, 'server'), ['demo', 'swap'], { env: serverEnv, cwd: dir });
    const stale = await get();
    expect(stale.cache, 'the edge keeps serving its copy').toBe('HIT');
    expect(stale.body.equals(first.body), 'still the old image').toBe(true);

    await signIn(page, js, OWNER);
    await page.waitForURL(/\/p\/demo\/invalidation/);
    const id = await submitOn(page, js, 'demo', [`/${origin}/sample.jpg`]);
    await refreshUntil(page, js, id, 'DONE');
    await page.goto(`/p/demo/invalidation/${id}`);
    if (js) await waitHydrated(page);
    const row = page.locator('[data-testid="target-results"] tr[data-target="embedded-edge"]');
    await expect(row).toHaveAttribute('data-state', 'ok');
    await expect(row).toContainText(/removed [1-9]\d* cached objects/);

    const fresh = await get();
    expect(fresh.cache, 'fetched anew after the invalidation').toBe('MISS');
    expect(fresh.body.equals(first.body), 'the new image').toBe(false);
  });

  test('an image element in Chromium gets the lightest format it accepts', async ({ page, js }) => {
    test.skip(!js, 'one browser run is enough: no page script is involved');
    // The demo project was made with automatic format on: Chromium's Accept
    // lists image/avif, so the edge answers AVIF, keyed by format, Vary: Accept.
    const image = `${edge}/demo/${origin}/sample.jpg?w=300`;
    await expect(async () => expect((await page.request.get(image)).status()).toBe(200)).toPass({ timeout: 15_000 });
    const plain = await page.request.get(image, { headers: { accept: '*/*' } });
    expect(plain.headers()['content-type']).toBe('image/jpeg');
    const seen = page.waitForResponse((r) => r.url() === image);
    await page.setContent(`<img alt="sample" src="${image}">`);
    const answer = await seen;
    expect(answer.headers()['content-type']).toBe('image/avif');
    expect(answer.headers()['vary']).toMatch(/accept/i);
    const body = await answer.body();
    expect(body.length).toBeLessThan((await plain.body()).length);
    await expect.poll(() => page.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(300);
  });
});
