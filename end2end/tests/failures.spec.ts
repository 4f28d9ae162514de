import {
  FAILING,
  expect,
  invalidationPath,
  paths,
  refreshUntil,
  settle,
  storageState,
  submitOn,
  targetRequests,
  test,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('admin') });

/*
 * "What failed, where, why, what to do": the details page of a failed
 * invalidation names the target, its HTTP status and the next step, and the
 * project's notification hook receives a signed call for the error.
 */
test('a failed target is explained and the notification hook is called', async ({ page, js, uniq }) => {
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
  await expect(page.getByTestId('permalink')).toHaveAttribute('href', `${invalidationPath(FAILING)}/${id}`);
  await expect(page.getByTestId('support-text')).toContainText('Failed target: broken-hook (Webhook)');

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
