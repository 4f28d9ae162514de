import {
  FAILING,
  expect,
  invalidationPath,
  paths,
  refreshUntil,
  settle,
  storageState,
  submitAsAdmin,
  submitOn,
  targetRequests,
  test,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('admin'), timezoneId: 'Europe/Berlin' });

/*
 * "What failed, where, why, what to do": the details page of a failed
 * invalidation names the target, its HTTP status and the next step, and the
 * project's notification hook receives a signed call for the error.
 */
test('a failed target is explained and the notification hook is called', async ({ page, js, uniq, baseURL, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const hookName = `notify-${uniq}`;
  const hookUrl = `${process.env.IMGFLUSH_E2E_TARGETS_URL}/t/${hookName}`;
  await page.goto(`/p/${FAILING}/notifications`);
  if (js) await waitHydrated(page);
  await page.getByLabel('Name').fill(hookName);
  await page.getByLabel('HTTPS URL').fill(hookUrl);
  await page.getByLabel('Signing secret (optional)').fill('hook-secret');
  await page.getByRole('button', { name: 'Add hook' }).click();
  await settle(page, js);
  await expect(page.locator(`tr[data-hook="${hookName}"]`)).toBeVisible();

  const id = await submitOn(page, js, FAILING, paths(uniq, 1));
  await refreshUntil(page, js, id, 'ERROR_CDN_NODE');
  await page.goto(`${invalidationPath(FAILING)}/${id}`);
  if (js) await waitHydrated(page);
  const target = page.locator('tr[data-target="broken-hook"]');
  await expect(target).toHaveAttribute('data-state', 'error');
  await expect(target).toContainText('Webhook');
  await expect(target).toContainText('HTTP 500');
  await expect(target).toContainText('The node failed (HTTP 500): check its logs; once it is healthy, Retry.');
  // Links meant to leave the console are absolute.
  await expect(page.getByTestId('permalink')).toHaveAttribute('href', `${baseURL}${invalidationPath(FAILING)}/${id}`);
  const summary = page.getByTestId('support-text');
  await expect(summary).toContainText('Failed target: broken-hook (Webhook), error, ');
  await expect(summary).toContainText(`Details: ${baseURL}${invalidationPath(FAILING)}/${id}`);
  // One click, not inside a collapsed section; times in the reader's zone (Berlin: +01:00 in winter).
  await expect(page.getByTestId('copy-support')).toBeVisible();
  if (js) {
    await expect(summary).toContainText(/Submitted: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+01:00 by /);
    await page.getByTestId('copy-support').click();
    await expect(page.getByTestId('copy-support')).toHaveText('Copied for support');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain('Failed target: broken-hook (Webhook)');
    await expect(page).not.toHaveURL(/support=open/);
  } else {
    await expect(summary).toContainText(/Submitted: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by /);
    // Without a script nothing can reach the clipboard: the link opens the
    // summary on the same page, ready to select.
    await expect(summary).toBeHidden();
    await page.getByTestId('copy-support').click();
    await expect(page).toHaveURL(new RegExp(`/${id}\\?support=open#support-text$`));
    await expect(summary).toBeVisible();
    await expect(summary).toContainText('Failed target: broken-hook (Webhook), error, ');
  }

  await expect(async () => {
    const calls = (await targetRequests(hookName)).filter((r) => r.body.includes(id));
    expect(calls).toHaveLength(1);
    expect(calls[0].headers['x-imgflush-event']).toBe('invalidation.error');
    expect(calls[0].headers['x-imgflush-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  }).toPass({ timeout: 10_000 });
});

test('the Test button on a purge target shows its answer (admins only)', async ({ page, js, browser, baseURL }) => {
  await page.goto('/p/demo/settings');
  if (js) await waitHydrated(page);
  await page.getByRole('button', { name: 'Test edge-1' }).click();
  // The answer sits under the target it tested.
  await expect(page.locator('tr[data-tested="edge-1"]').getByTestId('target-test-result')).toContainText(
    'Test of edge-1: the target answered: ok',
  );
  const support = await browser.newContext({ baseURL, storageState: storageState('support'), javaScriptEnabled: js });
  try {
    const sp = await support.newPage();
    await sp.goto('/p/demo/settings');
    await expect(sp.locator('tr[data-target="edge-1"]')).toBeVisible();
    await expect(sp.getByRole('button', { name: 'Test edge-1' })).toHaveCount(0);
  } finally {
    await support.close();
  }
});

/*
 * Support staff read a failed invalidation's summary: they cannot Retry, so
 * its next step names who can (the project's admins).
 */
test.describe('as the operator\'s staff', () => {
  test.use({ storageState: storageState('staff') });

  test('the support summary names the admins to ask for a Retry', async ({ page, js, browser, baseURL, uniq }) => {
    const id = await submitAsAdmin(browser, baseURL, js, FAILING, paths(uniq, 1), 'ERROR_CDN_NODE');
    await page.goto(`${invalidationPath(FAILING)}/${id}`);
    if (js) await waitHydrated(page);
    await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
    await expect(page.getByTestId('support-text')).toContainText(
      /Retry and settings are for the project's admins \([^)]*admin@example\.com[^)]*\): ask them\./,
    );
  });
});
