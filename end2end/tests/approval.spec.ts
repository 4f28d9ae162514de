import { ADMIN, expect, invalidationPath, logRow, storageState, test, waitHydrated } from './fixtures';
import type { Page } from '@playwright/test';

test.use({ storageState: storageState('owner') });

async function createProject(op: Page, js: boolean, token: string): Promise<void> {
  await op.goto('/projects');
  if (js) await waitHydrated(op);
  await op.getByLabel('Token').fill(token);
  await op.getByLabel('Name', { exact: true }).fill(`Two admins ${token}`);
  await op.getByLabel('Allowed origin hosts (one per line)').fill('img.shop.example');
  await op.getByRole('button', { name: 'Create project' }).click();
  await expect(op.locator(`tr[data-project="${token}"]`)).toBeVisible();
}

/*
 * The two-person rule, with two people: the owner turns it on for a new
 * project and submits scope All, which waits as "Awaiting approval" (the
 * owner cannot approve their own request); a second admin approves it on
 * the details page, and it runs to Done.
 */
test('scope All waits for a second admin, who approves it', async ({ page, js, browser, baseURL, allowConsoleError }) => {
  // The owner's own Approve is refused (409) on purpose.
  allowConsoleError(/status of 409 .*\/sfn\/decide_approval/);
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}ap${Date.now().toString(36)}${rand}`;
  await createProject(page, js, token);

  // A second admin: an existing account, which joins through its link.
  await page.goto(`/p/${token}/members`);
  if (js) await waitHydrated(page);
  await page.getByLabel('E-mail').fill(ADMIN.email);
  await page.getByLabel(/^Role/).selectOption('admin');
  await page.getByRole('button', { name: 'Add member' }).click();
  const link = (await page.getByTestId('invite-link').textContent())?.trim() ?? '';
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invite\/\w{32}$/);

  await page.goto(`/p/${token}/settings`);
  if (js) await waitHydrated(page);
  await page.getByText('Edit settings').click();
  await page.getByLabel("Scope All waits for another admin's approval").check();
  await page.getByLabel(/Cancelled unless approved within/).fill('3');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('approval')).toHaveText('yes, within 3 h');

  await page.goto(invalidationPath(token));
  if (js) await waitHydrated(page);
  await page.locator('#scope-all').check();
  await page.getByLabel(/I understand/).check();
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page).toHaveURL(/[?&]created=/, { timeout: 15_000 });
  const id = (await page.getByTestId('created-id').textContent())?.trim() ?? '';
  await expect(logRow(page, id)).toHaveAttribute('data-status', 'AWAITING_APPROVAL');
  await expect(logRow(page, id)).toContainText('Awaiting approval');

  // The submitter cannot approve their own request.
  await page.goto(`${invalidationPath(token)}/${id}`);
  if (js) await waitHydrated(page);
  await expect(page.getByTestId('awaiting-approval')).toBeVisible();
  if (js) {
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page.getByRole('alert')).toContainText('another admin of the project must approve');
  }

  // The second admin joins with their own password, then approves it: it
  // runs (no targets: Done at once).
  // A context of its own: Playwright would otherwise give it the owner's cookies.
  const second = await browser.newContext({ baseURL, javaScriptEnabled: js, storageState: { cookies: [], origins: [] } });
  const other = await second.newPage();
  await other.goto(link);
  if (js) await waitHydrated(other);
  await other.getByLabel('Your password').fill(ADMIN.password);
  await other.getByRole('button', { name: 'Join and sign in' }).click();
  await expect(other).toHaveURL(invalidationPath(token));
  await other.goto(`${invalidationPath(token)}/${id}`);
  if (js) await waitHydrated(other);
  await other.getByRole('button', { name: 'Approve' }).click();
  await expect(async () => {
    await other.goto(`${invalidationPath(token)}/${id}`);
    await expect(other.locator('dl.summary [data-status]').first()).toHaveAttribute('data-status', 'DONE', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(other.locator('body')).toContainText(`approved by ${ADMIN.email}`);
  await second.close();
});
