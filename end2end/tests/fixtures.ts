/**
 * Shared fixtures and helpers for the console's browser tests.
 *
 * Every spec runs in two Playwright projects: `hydrated` (JavaScript on; wait for
 * `<body data-hydrated="true">` before interacting, since clicks before hydration
 * do nothing) and `no-js` (plain HTML forms and full page loads).
 */
import { test as base, expect, type Browser, type Locator, type Page } from '@playwright/test';

import { env, storageState } from '../harness/world';

export { expect };
export { ADMIN, DEMO, FAILING, OWNER, STAFF, SUPPORT, flakyToken, storageState, twoStepUser, passkeyUser } from '../harness/world';

type Fixtures = {
  /** True in the `hydrated` project. */
  js: boolean;
  /** Navigates and, with JavaScript, waits until the page is hydrated. */
  open: (path: string) => Promise<void>;
  /** A per-test prefix that keeps submitted paths unique across tests and projects. */
  uniq: string;
  consoleAllowList: RegExp[];
  /** Console errors matching `pattern` are expected by the test (e.g. a 404 page it asserts). */
  allowConsoleError: (pattern: RegExp) => void;
  /** Fails the test on uncaught page errors and console errors (hydration panics, 404 assets…). */
  pageErrors: void;
};

export const test = base.extend<Fixtures>({
  js: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
  open: async ({ page, js }, use) => {
    await use(async (path: string) => {
      await page.goto(path);
      if (js) await waitHydrated(page);
    });
  },
  consoleAllowList: async ({}, use) => {
    await use([]);
  },
  allowConsoleError: async ({ consoleAllowList }, use) => {
    await use((pattern) => {
      consoleAllowList.push(pattern);
    });
  },
  pageErrors: [
    async ({ page, consoleAllowList: allowed }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url})`);
      });
      // A site file (WASM, JS, CSS) that does not answer 200 is a failure of
      // its own, with what the server said (rare, unexplained 404s in CI).
      page.on('response', async (r) => {
        if (!new URL(r.url()).pathname.startsWith('/pkg/') || r.status() === 200) return;
        const body = (await r.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
        errors.push(`site file ${r.url()} answered ${r.status()} at ${new Date().toISOString()}: ${JSON.stringify(r.headers())} ${body}`);
      });
      await use();
      const unexpected = errors.filter((e) => !allowed.some((re) => re.test(e)));
      expect(unexpected, 'no errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
  uniq: async ({}, use, testInfo) => {
    const rand = Math.random().toString(36).slice(2, 8);
    await use(`${testInfo.project.name}-${Date.now().toString(36)}-${rand}`);
  },
});

export async function waitHydrated(page: Page): Promise<void> {
  await expect(page.locator('body'), 'the page hydrates (WASM loaded and ran)').toHaveAttribute(
    'data-hydrated',
    'true',
    { timeout: 20_000 },
  );
}

/** After an action that navigates (no-JS) or updates in place (JS), wait for hydration again when JS is on. */
export async function settle(page: Page, js: boolean): Promise<void> {
  await page.waitForLoadState('load');
  if (js) await waitHydrated(page);
}

export async function signIn(
  page: Page,
  js: boolean,
  user: { email: string; password: string },
  from = '/login',
): Promise<void> {
  await page.goto(from);
  if (js) await waitHydrated(page);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export function invalidationPath(token: string): string {
  return `/p/${token}/invalidation`;
}

/** `n` distinct, valid origin paths under a per-test prefix. */
export function paths(uniq: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `/sample.li/e2e/${uniq}/img-${i + 1}.jpg`);
}

export function urlsBox(page: Page): Locator {
  return page.getByLabel('URLs (up to 10, separated by commas or line breaks)');
}

export function submitButton(page: Page): Locator {
  return page.locator('section[aria-labelledby="new-invalidation"]').getByRole('button', { name: /^Submit/ });
}

export function logRow(page: Page, id: string): Locator {
  return page.locator(`[data-testid="log"] tr[data-id="${id}"]`);
}

export function badge(row: Locator): Locator {
  return row.locator('td').first().locator('[data-status]');
}

/**
 * Fills the URL box on an already opened Invalidation page, submits, and returns
 * the new Invalidation ID shown in the confirmation.
 */
export async function submitOriginal(page: Page, js: boolean, list: string[], separator = '\n'): Promise<string> {
  await urlsBox(page).fill(list.join(separator));
  if (js) await expect(submitButton(page)).toBeEnabled();
  await submitButton(page).click();
  return createdId(page, js);
}

export async function createdId(page: Page, js: boolean): Promise<string> {
  await expect(page).toHaveURL(/[?&]created=/, { timeout: 15_000 });
  const id = (await page.getByTestId('created-id').textContent())?.trim() ?? '';
  expect(id, 'the confirmation shows the new Invalidation ID').not.toBe('');
  expect(new URL(page.url()).searchParams.get('created')).toBe(id);
  if (js) await waitHydrated(page);
  return id;
}

/** Opens the token's Invalidation page and submits `list`. */
export async function submitOn(
  page: Page,
  js: boolean,
  token: string,
  list: string[],
): Promise<string> {
  await page.goto(invalidationPath(token));
  if (js) await waitHydrated(page);
  return submitOriginal(page, js, list);
}

/**
 * Clicks Refresh until the row's badge shows `status` (a status code, e.g. DONE),
 * bounded by `timeout`. With JavaScript the log reloads in place; without it the
 * Refresh form reloads the page.
 */
export async function refreshUntil(page: Page, js: boolean, id: string, status: string, timeout = 30_000): Promise<void> {
  const row = logRow(page, id);
  await expect(async () => {
    if ((await row.getAttribute('data-status', { timeout: 1_000 }).catch(() => null)) !== status) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      if (!js) await page.waitForLoadState('load');
    }
    await expect(row).toHaveAttribute('data-status', status, { timeout: 1_500 });
  }, `row ${id} reaches ${status}`).toPass({ intervals: [200, 400, 800, 1_000], timeout });
  if (js) await waitHydrated(page);
}

/** Controls the purge-target stand-in. */
export async function setTarget(name: string, mode: 'ok' | 'fail'): Promise<void> {
  const r = await fetch(`${env.targetsURL}/__control/${mode}?target=${encodeURIComponent(name)}`, { method: 'POST' });
  expect(r.ok, `switching target ${name} to ${mode}`).toBe(true);
}

export interface TargetRequest {
  target: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

export async function targetRequests(name: string): Promise<TargetRequest[]> {
  const r = await fetch(`${env.targetsURL}/__control/requests?target=${encodeURIComponent(name)}`);
  expect(r.ok).toBe(true);
  return (await r.json()) as TargetRequest[];
}

/**
 * `iso` as the console shows it once hydrated in time zone `timeZone`:
 * `YYYY-MM-DD HH:MM:SS UTC±HH:MM`. Computed independently with Intl.
 */
export function localTimeText(iso: string, timeZone: string): string {
  const at = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offset = Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} UTC${sign}${hh}:${mm}`;
}

/** `iso` as the server renders it (no JavaScript): `YYYY-MM-DD HH:MM:SS UTC`. */
export function utcText(iso: string): string {
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

/** On a phone the header folds the account links behind "Menu": opens it (nothing on a wide screen). */
export async function openMenu(page: Page): Promise<void> {
  const menu = page.locator('label.menu-button');
  if (await menu.isVisible()) await menu.click();
}

/**
 * Submits `list` on project `token` as the admin, in a browser session of its
 * own (another user's invalidation, as the test's user finds it); waits for
 * `status` when given. Answers the Invalidation ID.
 */
export async function submitAsAdmin(
  browser: Browser,
  baseURL: string | undefined,
  js: boolean,
  token: string,
  list: string[],
  status?: string,
): Promise<string> {
  const admin = await browser.newContext({ baseURL, storageState: storageState('admin'), javaScriptEnabled: js });
  try {
    const page = await admin.newPage();
    const id = await submitOn(page, js, token, list);
    if (status) await refreshUntil(page, js, id, status);
    return id;
  } finally {
    await admin.close();
  }
}
