import { expect, invalidationPath, refreshUntil, storageState, submitOn, test, waitHydrated } from './fixtures';
import type { Page } from '@playwright/test';

// An instance owner: admin of every project, including the one the test creates
// (a CDN provider target must not join the seeded projects' invalidations).
test.use({ storageState: storageState('owner') });

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

/** A new project of this test's own (its token starts with `tag`), its Settings page open; answers a random suffix for names. */
async function newProjectSettings(page: Page, js: boolean, tag: string): Promise<{ token: string; rand: string }> {
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}${tag}${Date.now().toString(36)}${rand}`;
  await createProject(page, js, token);
  await page.goto(`/p/${token}/settings`);
  if (js) await waitHydrated(page);
  return { token, rand };
}

/*
 * "Add a target" takes a CDN provider's own fields (posted as
 * settings[cloudflare][zone_id] …): with JavaScript only the chosen kind's
 * fields show; without it every provider's fieldset does. The target is listed
 * with its public settings and "credentials set", never the token; its Test
 * button asks Cloudflare (Prism serving Cloudflare's own OpenAPI document, a
 * request it does not allow is refused) whether the token and the zone are
 * good; an invalidation then purges it and its details show Cloudflare's
 * purge ID.
 */
test('a Cloudflare target: added, tested, purged', async ({ page, js }) => {
  const { token, rand } = await newProjectSettings(page, js, 'cf');
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
  // The emulator stands where Cloudflare's public API would (left empty in production).
  await form.getByLabel('Purge URL').fill(process.env.IMGFLUSH_E2E_CLOUDFLARE_URL ?? '');
  await cloudflare.getByLabel('Zone ID').fill(ZONE);
  await cloudflare.getByLabel('API token').fill('e2e-token-never-shown');
  await form.getByRole('button', { name: 'Add target' }).click();
  // The table is drawn again: the answer has the focus, not the page's body.
  if (js) await expect(page.getByTestId('target-added')).toBeFocused();

  const row = page.locator(`tr[data-target="${name}"]`);
  await expect(row).toContainText('Cloudflare');
  await expect(row).toContainText('zone 023e…');
  await expect(row).toContainText('plan free');
  await expect(row).toContainText('credentials set');
  await expect(row).not.toContainText(ZONE);
  await expect(page.locator('body')).not.toContainText('e2e-token-never-shown');

  await page.getByRole('button', { name: `Test ${name}` }).click();
  await expect(page.locator(`tr[data-tested="${name}"]`).getByTestId('target-test-result')).toContainText(
    `Test of ${name}: the target answered: ok: the token is active`,
  );

  const id = await submitOn(page, js, token, ['/img.cdn.example/a.jpg']);
  await refreshUntil(page, js, id, 'DONE');
  await page.goto(`${invalidationPath(token)}/${id}`);
  if (js) await waitHydrated(page);
  const target = page.locator(`tr[data-target="${name}"]`);
  await expect(target).toHaveAttribute('data-state', 'ok');
  await expect(target).toContainText(/Cloudflare purge IDs?: /);
});

/*
 * The Name field's example follows the kind; Remove first asks, saying what
 * removing does, then says what happened (focused, since the button is gone).
 */
test('a target: named by example, removed after a confirmation', async ({ page, js }) => {
  const { rand } = await newProjectSettings(page, js, 'rm');
  const form = page.getByTestId('add-target');
  const nameField = form.getByLabel('Name', { exact: true });
  await expect(nameField).toHaveAttribute('placeholder', 'edge-fra-1');
  await form.getByLabel('Kind').selectOption('webhook');
  if (js) await expect(nameField).toHaveAttribute('placeholder', 'purge-hook');

  const name = `hook-${rand}`;
  await nameField.fill(name);
  await form.getByLabel('Purge URL').fill('http://127.0.0.1:9/purge');
  await form.getByRole('button', { name: 'Add target' }).click();
  const row = page.locator(`tr[data-target="${name}"]`);
  await expect(row).toContainText('Webhook');

  // One click opens the question; nothing is removed yet.
  await row.getByText('Remove', { exact: true }).click();
  await expect(row).toContainText(`Invalidations will stop purging ${name}. Its past results stay in the log.`);
  await row.getByRole('button', { name: `Remove ${name}` }).click();
  const notice = page.getByTestId('target-removed');
  await expect(notice).toHaveText(
    `Removed the target ${name}. Invalidations no longer purge it; its past results stay in the log.`,
  );
  if (js) await expect(notice).toBeFocused();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('no-targets')).toBeVisible();
});
