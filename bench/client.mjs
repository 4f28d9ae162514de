// What the browser fetches on the first load of a project's Invalidation page:
// every /pkg/ response a signed-in Chromium receives until the page is hydrated,
// WASM and JS apart, raw, `gzip -9` and brotli quality 11 (Node's zlib); then the WASM and JS files
// of the site that this load did not fetch (the lazily loaded chunks).
// Used by `bench/run.sh client`; prints Markdown table rows and, last, a line
//   RESULT first_gzip=<bytes> lazy_gzip=<bytes>
//
//   node bench/client.mjs --base URL --email E --password P --pkg DIR [--token demo]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';

// Playwright lives in end2end/node_modules.
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
for (const key of ['base', 'email', 'password', 'pkg']) {
  if (!args[key]) throw new Error(`missing --${key}`);
}
const token = args.token ?? 'demo';

const sizes = (buf) => ({
  raw: buf.length,
  gzip: execFileSync('gzip', ['-9c'], { input: buf, maxBuffer: 1 << 30 }).length,
  br: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, br: a.br + b.br });
const zero = { raw: 0, gzip: 0, br: 0 };
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const kind = (file) => (file.endsWith('.wasm') ? 'wasm' : file.endsWith('.js') ? 'js' : null);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const context = await browser.newContext({ baseURL: args.base });
  const page = await context.newPage();
  await page.goto('/login');
  await page.fill('input[name=email]', args.email);
  await page.fill('input[name=password]', args.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);

  // A fresh context with the session only: nothing cached from the sign-in page.
  const state = await context.storageState();
  await context.close();
  const fresh = await browser.newContext({ baseURL: args.base, storageState: state });
  const load = await fresh.newPage();
  const fetched = new Map();
  const pending = [];
  load.on('response', (resp) => {
    const url = new URL(resp.url());
    if (!url.pathname.startsWith('/pkg/') || !kind(url.pathname)) return;
    pending.push(
      resp.body().then((body) => fetched.set(path.basename(url.pathname), { status: resp.status(), body })),
    );
  });
  const errors = [];
  load.on('pageerror', (e) => errors.push(e.message));
  await load.goto(`/p/${token}/invalidation`);
  await load.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  // Whatever hydration starts (lazy chunks of this page, if any) has time to arrive.
  await load.waitForTimeout(1500);
  await Promise.all(pending);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

  const first = { wasm: zero, js: zero };
  const rows = [];
  for (const [file, { status, body }] of [...fetched].sort()) {
    if (status !== 200) throw new Error(`${file}: HTTP ${status}`);
    const s = sizes(body);
    first[kind(file)] = add(first[kind(file)], s);
    rows.push(`| first load | ${file} | ${kb(s.raw)} | ${kb(s.gzip)} | ${kb(s.br)} |`);
  }
  const total = add(first.wasm, first.js);

  let lazy = zero;
  let lazyCount = 0;
  for (const file of fs.readdirSync(args.pkg).sort()) {
    if (!kind(file) || fetched.has(file)) continue;
    lazy = add(lazy, sizes(fs.readFileSync(path.join(args.pkg, file))));
    lazyCount += 1;
  }

  console.log('| load | file(s) | raw | gzip -9 | brotli -q 11 |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`| first load | WASM total | ${kb(first.wasm.raw)} | ${kb(first.wasm.gzip)} | ${kb(first.wasm.br)} |`);
  console.log(`| first load | JS total | ${kb(first.js.raw)} | ${kb(first.js.gzip)} | ${kb(first.js.br)} |`);
  console.log(`| **first load** | **WASM + JS** | **${kb(total.raw)}** | **${kb(total.gzip)}** | **${kb(total.br)}** |`);
  console.log(`| lazy (not fetched) | ${lazyCount} chunk file(s) | ${kb(lazy.raw)} | ${kb(lazy.gzip)} | ${kb(lazy.br)} |`);
  console.log(`RESULT first_gzip=${total.gzip} lazy_gzip=${lazy.gzip}`);
} finally {
  await browser.close();
}
