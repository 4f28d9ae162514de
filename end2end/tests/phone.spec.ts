import type { Page } from '@playwright/test';

import { DEMO, FAILING, expect, invalidationPath, logRow, paths, refreshUntil, storageState, submitOn, test, waitHydrated } from './fixtures';

/*
 * On a phone (390 × 844): the page never scrolls sideways; the log is a list
 * of cards whose Retry is in view; the header stays dark behind its text and
 * folds its account links behind "Menu"; the tabs scroll on their own.
 */
test.use({ storageState: storageState('admin'), viewport: { width: 390, height: 844 } });

/** IMGFLUSH_SCREENSHOTS=DIR saves the README's phone pictures there (hydrated run only). */
async function picture(page: Page, js: boolean, name: string): Promise<void> {
  const dir = process.env.IMGFLUSH_SCREENSHOTS;
  if (dir && js) await page.screenshot({ path: `${dir}/${name}.png` });
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const [scroll, client, wide] = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // What sticks out, for the failure message: the innermost elements past the edge.
    const out = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .filter((el) => {
        // Inside a box that scrolls on its own (the tabs, a wide table): not the page's doing.
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
          if (getComputedStyle(up).overflowX !== 'visible') return false;
        }
        return true;
      })
      .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > width + 0.5))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} (${el.textContent?.slice(0, 30)})`);
    const widest = [...document.querySelectorAll('body *')]
      .map((el) => [el.getBoundingClientRect().right, `${el.tagName}.${el.className}`] as const)
      .sort((a, b) => b[0] - a[0]).slice(0, 6).map(([r, n]) => `${n}@${Math.round(r)}`);
    return [document.documentElement.scrollWidth, width, out.join(', ') + ' / widest: ' + widest.join(' | ')];
  });
  expect(scroll, `${what} does not scroll sideways (sticking out: ${wide})`).toBeLessThanOrEqual(client as number);
}

test('the console on a phone', async ({ page, js, uniq }) => {
  const id = await submitOn(page, js, FAILING, paths(uniq, 1));
  await refreshUntil(page, js, id, 'ERROR_CDN_NODE');
  await noSidewaysScroll(page, 'the Invalidation page');

  // The log's card: status, date, ID and the path, and Retry within the screen.
  const card = logRow(page, id);
  await expect(card.locator('td.id')).toBeVisible();
  await expect(card.getByTestId('one-path')).toBeVisible();
  const retry = card.getByRole('button', { name: 'Retry' });
  await retry.scrollIntoViewIfNeeded();
  await expect(retry).toBeInViewport();
  const box = await retry.boundingBox();
  expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
  await card.scrollIntoViewIfNeeded();
  await picture(page, js, 'phone-log');

  // The header: dark, its account links behind "Menu", inside the dark bar when open.
  const header = page.locator('header.topbar');
  expect(await header.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(17, 24, 39)');
  const signOut = page.getByRole('button', { name: 'Sign out' });
  await expect(signOut).toBeHidden();
  await page.locator('label.menu-button').click();
  await expect(signOut).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await picture(page, js, 'phone-menu');
  const bar = await header.boundingBox();
  const button = await signOut.boundingBox();
  expect((button?.y ?? 0) + (button?.height ?? 0)).toBeLessThanOrEqual((bar?.y ?? 0) + (bar?.height ?? 0));

  // The tabs scroll on their own; the page does not.
  const tabs = page.getByRole('navigation', { name: 'Project' });
  expect(await tabs.evaluate((el) => getComputedStyle(el).overflowX)).toBe('auto');

  for (const path of [
    `${invalidationPath(FAILING)}/${id}`,
    `/p/${DEMO}/settings`,
    `/p/${DEMO}/members`,
    `/p/${DEMO}/api-keys`,
    `/p/${DEMO}/audit`,
    `/docs/api?project=${DEMO}`,
  ]) {
    await page.goto(path);
    if (js) await waitHydrated(page);
    if (path.includes('/invalidation/')) await picture(page, js, 'phone-details');
    await noSidewaysScroll(page, path);
  }
});
