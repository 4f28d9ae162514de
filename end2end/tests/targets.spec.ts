import { createHmac } from 'node:crypto';
import { OWNER, expect, invalidationPath, refreshUntil, signIn, submitOn, targetRequests, test, waitHydrated } from './fixtures';
import type { Page } from '@playwright/test';

// An instance owner: admin of every project, including the one the test creates
// (a CDN provider target must not join the seeded projects' invalidations).
// Each test signs in on its own: without JavaScript the Settings page's
// answers ride on the session's flash, which tests sharing one session would
// take from each other.
test.beforeEach(async ({ page, js }) => {
  await signIn(page, js, OWNER);
  await expect(page.getByTestId('user-email')).toHaveText(OWNER.email);
});

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

/*
 * A target that fails: the details page's next step links to Settings, where
 * Edit fixes its URL and keeps its secret (the field left empty); Retry on the
 * details page then purges it, signed with the secret it always had, and the
 * page explains Attempt (the job's) against Calls (a target's requests).
 */
test('a failing target: the next step leads to Settings, Edit keeps its secret, Retry purges', async ({ page, js }) => {
  const { token, rand } = await newProjectSettings(page, js, 'ed');
  const form = page.getByTestId('add-target');
  const name = `hook-${rand}`;
  const secret = `kept-${rand}`;
  await form.getByLabel('Kind').selectOption('webhook');
  await form.getByLabel('Name', { exact: true }).fill(name);
  // Nothing listens on port 9: the purge is refused.
  await form.getByLabel('Purge URL').fill('http://127.0.0.1:9/purge');
  await form.getByLabel(/Shared secret/).fill(secret);
  await form.getByRole('button', { name: 'Add target' }).click();
  await expect(page.locator(`tr[data-target="${name}"]`)).toContainText('Webhook');

  const id = await submitOn(page, js, token, ['/img.cdn.example/edit.jpg']);
  await refreshUntil(page, js, id, 'ERROR_CDN_NODE');
  const details = `${invalidationPath(token)}/${id}`;
  await page.goto(details);
  if (js) await waitHydrated(page);
  const result = page.locator(`tr[data-target="${name}"]`);
  await expect(result).toHaveAttribute('data-state', 'error');
  await expect(result).toContainText('Nothing answered at the target');
  const toSettings = result.getByTestId('next-step-settings');
  await expect(toSettings).toHaveAttribute('href', `/p/${token}/settings`);
  await toSettings.click();
  await expect(page).toHaveURL(`/p/${token}/settings`);
  if (js) await waitHydrated(page);

  // Edit: the URL changes, the secret field stays empty ("leave empty to keep").
  const edit = page.locator(`tr[data-edit-target="${name}"]`);
  await edit.getByText(`Edit ${name}`, { exact: true }).click();
  const secretField = edit.getByLabel('Shared secret');
  await expect(secretField).toHaveValue('');
  await expect(secretField).toHaveAttribute('placeholder', 'leave empty to keep the current one');
  const hookUrl = `${process.env.IMGFLUSH_E2E_TARGETS_URL}/t/${name}`;
  await edit.getByLabel('Purge URL').fill(hookUrl);
  await edit.getByRole('button', { name: 'Save target' }).click();
  await expect(page.getByTestId('target-saved')).toBeVisible();
  if (js) await expect(page.getByTestId('target-saved')).toBeFocused();
  await expect(page.locator(`tr[data-target="${name}"]`)).toContainText(hookUrl);
  await expect(page.locator('body')).not.toContainText(secret);

  // Retry from the details page.
  await page.goto(details);
  if (js) await waitHydrated(page);
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('retry-queued')).toHaveText('Retry queued as attempt 2.');
  // The button is gone once the job runs again: the answer holds the focus.
  if (js) await expect(page.getByTestId('retry-queued')).toBeFocused();
  await expect(async () => {
    await page.goto(details);
    await expect(result).toHaveAttribute('data-state', 'ok', { timeout: 1_000 });
  }, 'the retried target succeeds').toPass({ intervals: [300, 600, 1_000], timeout: 30_000 });
  if (js) await waitHydrated(page);
  await expect(page.getByTestId('attempt')).toContainText('2');
  await expect(page.getByTestId('attempt')).toContainText('each Retry starts the next');
  await expect(page.locator('[data-testid="target-results"] thead abbr', { hasText: 'Calls' })).toHaveAttribute(
    'title',
    /Purge requests sent to this target for this invalidation, over all its attempts/,
  );

  // The support summary lists a target that succeeded too, with its calls
  // over both attempts (the refused one and the one that purged).
  await expect(page.getByTestId('support-text')).toContainText(`Target: ${name} (Webhook), ok, 2 calls, last at `);
  await expect(result.locator('td').nth(3)).toHaveText('2');
  await expect(page.getByTestId('support-text')).toContainText('Attempt: 2');

  // The purge reached the new URL, signed with the secret set at the start.
  const calls = (await targetRequests(name)).filter((r) => r.body.includes('/img.cdn.example/edit.jpg'));
  expect(calls).toHaveLength(1);
  const { headers, body } = calls[0];
  const expected = createHmac('sha256', secret).update(`${headers['x-imgflush-timestamp']}.${body}`).digest('hex');
  expect(headers['x-imgflush-signature']).toBe(`sha256=${expected}`);
});

/*
 * Settings say which edges are shields, and at which tier (a tier-2 shield
 * fetches from a tier-1 one): purges go tier by tier, then to the other edges.
 */
test('an edge target marked as a shield says so, with its tier', async ({ page, js }) => {
  const { rand } = await newProjectSettings(page, js, 'sh');
  const form = page.getByTestId('add-target');
  const edge = form.locator('fieldset[data-kind="edge"]');
  // Another kind first: after an add the form is back to its first state
  // (the kind, the name, the secret), nothing left over from that target.
  await form.getByLabel('Kind').selectOption('webhook');
  await form.getByLabel('Name', { exact: true }).fill(`hook-${rand}`);
  await form.getByLabel('Purge URL').fill('http://127.0.0.1:9/hook');
  await form.getByLabel(/Shared secret/).fill(`never-kept-${rand}`);
  await form.getByRole('button', { name: 'Add target' }).click();
  await expect(page.getByTestId('target-added')).toBeVisible();
  await expect(form.getByLabel('Kind')).toHaveValue('edge');
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(form.getByLabel(/Shared secret/)).toHaveValue('');
  if (js) await expect(edge).toBeVisible();

  const name = `shield-${rand}`;
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Purge URL').fill('http://127.0.0.1:9/_purge');
  await edge.getByLabel('Shield (parent) edge').check();
  await edge.getByLabel('Shield tier').fill('2');
  await form.getByRole('button', { name: 'Add target' }).click();
  const row = page.locator(`tr[data-target="${name}"]`);
  await expect(row.getByTestId('target-settings')).toHaveText(/shield.*shield tier 2/);
  // The form is ready for the next target, nothing left over from this one.
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(edge.getByLabel('Shield (parent) edge')).not.toBeChecked();
  await expect(edge.getByLabel('Shield tier')).toHaveValue('');

  const plain = `edge-${rand}`;
  await form.getByLabel('Kind').selectOption('edge');
  await form.getByLabel('Name', { exact: true }).fill(plain);
  await form.getByLabel('Purge URL').fill('http://127.0.0.1:9/_purge');
  await form.getByRole('button', { name: 'Add target' }).click();
  await expect(page.locator(`tr[data-target="${plain}"]`).getByTestId('target-settings')).not.toContainText('shield');
  await expect(page.getByText('shields first, tier by tier, then the edges below them')).toBeVisible();
});
