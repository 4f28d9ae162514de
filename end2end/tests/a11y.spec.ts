import { createRequire } from 'node:module';

import type { Page } from '@playwright/test';

import { DEMO, FAILING, expect, invalidationPath, paths, storageState, submitOn, test, waitHydrated } from './fixtures';

/*
 * axe-core's WCAG 2 A and AA rules on every page, as rendered and hydrated.
 * axe is injected by Playwright (the page's CSP allows no foreign script, so
 * these tests bypass it); any violation fails the test and names the rule
 * and the elements.
 */
const AXE = createRequire(__filename).resolve('axe-core/axe.min.js');

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map(
      (v: { id: string; help: string; nodes: { target: string[] }[] }) =>
        `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  });
  return result as string[];
}

async function check(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await waitHydrated(page);
  // Resources settle (the log, the details) before axe looks.
  await page.waitForLoadState('networkidle');
  expect(await violations(page), `WCAG 2 A/AA on ${path}`).toEqual([]);
  await expect(page, `${path} has a title`).toHaveTitle(/\S/);
}

test.use({ bypassCSP: true });

test.beforeEach(({ js }) => {
  test.skip(!js, 'axe runs as a script in the page');
});

test('the sign-in page and an invitation link pass WCAG 2 A/AA', async ({ page }) => {
  await check(page, '/login');
  await check(page, '/login/code');
  await check(page, '/invite/not-a-real-invitation');
});

test.describe('as the owner', () => {
  test.use({ storageState: storageState('owner') });

  test('every console page passes WCAG 2 A/AA', async ({ page, uniq, allowConsoleError }) => {
    const id = await submitOn(page, true, DEMO, paths(uniq, 1));
    const failed = await submitOn(page, true, FAILING, paths(uniq, 1));
    for (const path of [
      invalidationPath(DEMO),
      `${invalidationPath(DEMO)}/${id}`,
      `${invalidationPath(FAILING)}/${failed}`,
      `/p/${DEMO}/settings`,
      `/p/${DEMO}/api-keys`,
      '/account/two-step',
      `/p/${DEMO}/members`,
      `/p/${DEMO}/notifications`,
      `/p/${DEMO}/audit`,
      '/projects',
      '/users',
      '/sso',
      '/audit',
      '/account',
      '/docs/api',
    ]) {
      await check(page, path);
    }
    allowConsoleError(/status of 404/);
    await check(page, `/lookup?q=${crypto.randomUUID()}`);
    // The not-found pages: an unknown address, project and ID.
    await check(page, '/no/such/page');
    await check(page, '/p/no-such-project/settings');
    await check(page, `${invalidationPath(DEMO)}/garbage`);
  });
});

test.describe('as a support user', () => {
  test.use({ storageState: storageState('support') });

  test('the read-only pages pass WCAG 2 A/AA', async ({ page }) => {
    await check(page, invalidationPath(DEMO));
    await check(page, `/p/${DEMO}/settings`);
  });
});

test.describe('on a phone', () => {
  test.use({ storageState: storageState('admin'), viewport: { width: 390, height: 844 } });

  test('the phone layout passes WCAG 2 A/AA, its menu open too', async ({ page }) => {
    await check(page, invalidationPath(DEMO));
    await page.locator('label.menu-button').click();
    expect(await violations(page), 'with the menu open').toEqual([]);
    await check(page, `/p/${DEMO}/settings`);
  });
});
