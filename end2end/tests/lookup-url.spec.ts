import { DEMO, createdId, expect, invalidationPath, storageState, submitButton, test, waitHydrated } from './fixtures';

test.use({ storageState: storageState('admin') });

/*
 * "Is this URL fresh?" for support staff: the header's lookup box takes an
 * image URL as a customer pastes it, shows the project path it maps to and
 * the invalidations that covered it, and Check now asks every edge and
 * Varnish node what it holds (a plain GET form: with or without JavaScript).
 */
test('an image URL shows its path, what covered it, and what the caches hold', async ({ page, js, open, uniq }) => {
  const path = `/sample.li/${uniq}-fresh.jpg`;
  await open(invalidationPath(DEMO));
  await page.locator('#urls').fill(path);
  await submitButton(page).click();
  const id = await createdId(page, js);

  const pasted = `https://img.example.net/demo${path}?w=500`;
  await page.getByPlaceholder('Invalidation ID or URL').fill(pasted);
  await page.getByPlaceholder('Invalidation ID or URL').press('Enter');
  await expect(page).toHaveURL(/\/lookup\?q=/);
  if (js) await waitHydrated(page);
  const summary = page.getByTestId('url-lookup');
  await expect(page.getByTestId('origin-path')).toHaveText(path);
  await expect(summary).toContainText('?w=500');
  await expect(page.getByTestId('covering').locator(`tr[data-id="${id}"]`)).toBeVisible();

  await page.getByTestId('check-now').click();
  await expect(page).toHaveURL(/check=1/);
  const probes = page.getByTestId('probes');
  await expect(probes.locator('li[data-target="edge-1"]')).toContainText('holds it, stored 42 s ago');
  await expect(probes.locator('li[data-target="varnish-1"]')).toContainText('does not hold it');
  await expect(probes.locator('li[data-target="hook-1"]')).toContainText('cannot be asked');

  // A URL of no project the user may see reads like any unknown URL.
  await open(`/lookup?q=${encodeURIComponent('https://elsewhere.example/nobody/a.jpg')}`);
  await expect(page.getByRole('alert')).toContainText('names no project');
});
