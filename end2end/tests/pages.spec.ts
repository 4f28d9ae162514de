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

test('an unknown project: the page says Not found, without a second heading', async ({ page, js }) => {
  const response = await page.goto('/p/no-such-project/settings');
  expect(response?.status()).toBe(404);
  if (js) await waitHydrated(page);
  await expect(page).toHaveTitle(/\S/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByTestId('not-found')).toContainText('No project or invalidation answers to this address');
  await expect(page.getByLabel('Invalidation ID or URL')).toBeVisible();
});

test('a malformed Invalidation ID: a not-found page with its title, no echo of the junk', async ({ page, js }) => {
  const response = await page.goto(`${invalidationPath(DEMO)}/garbage`);
  expect(response?.status()).toBe(404);
  if (js) await waitHydrated(page);
  await expect(page).toHaveTitle('Not found · imgflush');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
  await expect(page.getByTestId('not-found')).toContainText('No project or invalidation answers to this address');
  await expect(page.locator('body')).not.toContainText('Invalidation garbage');
  await expect(page.getByLabel('Invalidation ID or URL')).toBeVisible();
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
