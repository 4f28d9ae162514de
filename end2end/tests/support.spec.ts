import {
  DEMO,
  FAILING,
  SUPPORT,
  badge,
  expect,
  invalidationPath,
  logRow,
  paths,
  refreshUntil,
  storageState,
  submitOn,
  test,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('support') });

test('a support user sees the log but no form and no Retry', async ({ page, js, browser, baseURL, uniq, allowConsoleError }) => {
  // An admin, in a separate session, produces an errored invalidation.
  const admin = await browser.newContext({ baseURL, storageState: storageState('admin'), javaScriptEnabled: js });
  let failed: string;
  try {
    const adminPage = await admin.newPage();
    failed = await submitOn(adminPage, js, FAILING, paths(uniq, 1));
    await refreshUntil(adminPage, js, failed, 'ERROR_CDN_NODE');
    await expect(logRow(adminPage, failed).getByRole('button', { name: 'Retry' }), 'the admin may retry it').toBeVisible();
  } finally {
    await admin.close();
  }

  await page.goto('/');
  await expect(page).toHaveURL(invalidationPath(DEMO));
  if (js) await waitHydrated(page);
  await expect(page.getByTestId('user-email')).toHaveText(SUPPORT.email);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.locator('textarea#urls')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Submit' })).toHaveCount(0);
  await expect(page.getByTestId('log').or(page.getByTestId('log-empty'))).toBeVisible();

  await page.goto(invalidationPath(FAILING));
  if (js) await waitHydrated(page);
  await expect(page.getByTestId('read-only')).toBeVisible();
  const row = logRow(page, failed);
  await expect(badge(row)).toHaveText('ERROR_CDN_NODE');
  await expect(row.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  // The path is read-only information and stays visible (one path: inline, not behind "See links").
  await expect(row.getByTestId('one-path')).toHaveText(paths(uniq, 1)[0]);

  // The detail page offers no Retry either.
  await page.goto(`${invalidationPath(FAILING)}/${failed}`);
  if (js) await waitHydrated(page);
  await expect(page.getByTestId('target-results')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);

  // A project the support user is not a member of answers Not found.
  allowConsoleError(/status of 404 .*\/p\/flaky-js\/invalidation/);
  const foreign = await page.goto(invalidationPath('flaky-js'));
  expect(foreign?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByTestId('log')).toHaveCount(0);
});
