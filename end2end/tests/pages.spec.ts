import { DEMO, expect, invalidationPath, storageState, test, waitHydrated } from './fixtures';

/*
 * Every page: what a user meets off the beaten path. Not-found pages keep the
 * console's layout and lookup box, have a title, and say what was not found;
 * a skip link takes keyboard users past the header.
 */
test.use({ storageState: storageState('admin') });

test.beforeEach(({ allowConsoleError }) => {
  allowConsoleError(/status of 404/);
});

test('an unknown address: a page that says so, with the layout', async ({ page, js }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  if (js) await waitHydrated(page);
  await expect(page).toHaveTitle('Page not found · imgflush');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await expect(page.getByTestId('not-found')).toContainText('There is no page at /no/such/page.');
  await expect(page.getByLabel('Invalidation ID or URL')).toBeVisible();
  await expect(page.getByTestId('user-email')).toBeVisible();
});

test('an unknown project and a malformed ID: one heading, a title, no echo of the junk', async ({ page, js }) => {
  for (const path of ['/p/no-such-project/settings', `${invalidationPath(DEMO)}/garbage`]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    if (js) await waitHydrated(page);
    await expect(page, path).toHaveTitle('Not found · imgflush');
    await expect(page.getByRole('heading', { level: 1 }), path).toHaveText('Not found');
    await expect(page.getByTestId('not-found'), path).toContainText('No project or invalidation answers to this address');
    await expect(page.locator('body'), path).not.toContainText('Invalidation garbage');
    await expect(page.getByLabel('Invalidation ID or URL'), path).toBeVisible();
  }
});

test('a skip link takes the keyboard past the header', async ({ page, js }) => {
  await page.goto(invalidationPath(DEMO));
  if (js) await waitHydrated(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
  await expect(page.locator('main#main')).toBeFocused();
});
