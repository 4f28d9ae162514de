import { expect, storageState, test, waitHydrated } from './fixtures';
import type { Page } from '@playwright/test';

// An instance owner: admin of every project, including the one the test creates
// (a CDN provider target must not join the seeded projects' invalidations).
test.use({ storageState: storageState('owner') });

/** The console's credential key: the harness sets none unless the environment does. */
const keyed = !!(process.env.IMGFLUSH_SECRETS_KEY || process.env.APP__SECRETS__KEY);

const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';

async function createProject(page: Page, js: boolean, token: string): Promise<void> {
  await page.goto('/projects');
  if (js) await waitHydrated(page);
  await page.getByLabel('Token').fill(token);
  await page.getByLabel('Name', { exact: true }).fill(`CDN ${token}`);
  await page.getByLabel('Allowed origin hosts (one per line)').fill('img.cdn.example');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.locator(`tr[data-project="${token}"]`)).toBeVisible();
}

/*
 * "Add a target" takes a CDN provider's own fields (posted as
 * settings[cloudflare][zone_id] …): with JavaScript only the chosen kind's
 * fields show; without it every provider's fieldset does. The target is listed
 * with its public settings and "credentials set" — or, when the console has no
 * credential key (the harness sets none), the API token field says how to set one.
 */
test('adds a Cloudflare target with its zone and API token', async ({ page, js, allowConsoleError }) => {
  // With JavaScript a refused form is a 400 answer to the server function call.
  if (!keyed) allowConsoleError(/status of 400 .*\/sfn\/add_target/);
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}cf${Date.now().toString(36)}${rand}`;
  await createProject(page, js, token);

  await page.goto(`/p/${token}/settings`);
  if (js) await waitHydrated(page);
  const form = page.getByTestId('add-target');
  const cloudflare = form.locator('fieldset[data-kind="cloudflare"]');
  await form.getByLabel('Kind').selectOption('cloudflare');
  if (js) {
    await expect(cloudflare).toBeVisible();
    await expect(form.locator('fieldset[data-kind="fastly"]')).toBeHidden();
    await expect(form.getByLabel(/Shared secret/)).toBeHidden();
  } else {
    await expect(form.locator('fieldset[data-kind="fastly"]')).toBeVisible();
    await expect(cloudflare.locator('legend')).toHaveText('Cloudflare settings');
  }
  await expect(cloudflare.getByLabel('API token')).toHaveAttribute('type', 'password');

  const name = `cf-${rand}`;
  await form.getByLabel('Name', { exact: true }).fill(name);
  // The URL stays empty: Cloudflare's public API.
  await cloudflare.getByLabel('Zone ID').fill(ZONE);
  await cloudflare.getByLabel('API token').fill('x');
  await form.getByRole('button', { name: 'Add target' }).click();

  if (keyed) {
    const row = page.locator(`tr[data-target="${name}"]`);
    await expect(row).toContainText('Cloudflare');
    await expect(row).toContainText('zone 023e…');
    await expect(row).toContainText('plan free');
    await expect(row).toContainText('credentials set');
    await expect(row).not.toContainText(ZONE);
  } else {
    const error = page.getByTestId('add-target').locator('fieldset[data-kind="cloudflare"] [data-error-for="api_token"]');
    await expect(error).toContainText('IMGFLUSH_SECRETS_KEY');
    await expect(page.getByTestId('no-targets')).toBeVisible();
  }
});
