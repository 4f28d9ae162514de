import {
  DEMO,
  FAILING,
  badge,
  expect,
  flakyToken,
  invalidationPath,
  logRow,
  paths,
  refreshUntil,
  setTarget,
  storageState,
  submitOn,
  targetRequests,
  test,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('admin') });

test.describe('Retry', () => {
  test('appears only on errored rows', async ({ page, js, uniq }) => {
    const failed = await submitOn(page, js, FAILING, paths(uniq, 1));
    await refreshUntil(page, js, failed, 'ERROR_CDN_NODE');
    const row = logRow(page, failed);
    await expect(badge(row)).toHaveText('ERROR_CDN_NODE');
    await expect(row.getByRole('button', { name: 'Retry' })).toBeVisible();

    const done = await submitOn(page, js, DEMO, paths(uniq, 1));
    await refreshUntil(page, js, done, 'DONE');
    await expect(logRow(page, done).getByRole('button', { name: 'Retry' })).toHaveCount(0);
    // Nothing but errored rows carries a Retry button anywhere in the log.
    const retryable = page.locator('[data-testid="log"] tr[data-id]:not([data-status^="ERROR"])').getByRole('button', { name: 'Retry' });
    await expect(retryable).toHaveCount(0);
  });

  test('brings an errored row back to Done once the target is fixed', async ({ page, js, uniq }, testInfo) => {
    const token = flakyToken(testInfo.project.name);
    await setTarget(token, 'fail');
    const id = await submitOn(page, js, token, paths(uniq, 2));
    await refreshUntil(page, js, id, 'ERROR_CDN_NODE');
    const row = logRow(page, id);
    await expect(badge(row)).toHaveText('ERROR_CDN_NODE');
    // The row says why, without opening it.
    await expect(row.getByTestId('why')).toHaveText(/^flaky-hook \(HTTP 500\b/);

    // The detail page names the failed target and keeps the edge's success.
    await page.goto(`${invalidationPath(token)}/${id}`);
    if (js) await waitHydrated(page);
    await expect(page.locator('[data-testid="target-results"] tr[data-target="flaky-hook"]')).toHaveAttribute('data-state', 'error');
    await expect(page.locator('[data-testid="target-results"] tr[data-target="edge-1"]')).toHaveAttribute('data-state', 'ok');
    await expect(page.getByTestId('target-results')).toContainText('500');

    await setTarget(token, 'ok');
    await page.goto(invalidationPath(token));
    if (js) await waitHydrated(page);
    await logRow(page, id).getByRole('button', { name: 'Retry' }).click();
    if (!js) await expect(page).toHaveURL(new RegExp(`${invalidationPath(token)}`));
    // Said on the page the browser comes back to as well, without JavaScript.
    await expect(page.getByTestId('retry-queued')).toHaveText('Retry queued as attempt 2.');
    await refreshUntil(page, js, id, 'DONE');
    await expect(badge(logRow(page, id))).toHaveText('Done');
    await expect(logRow(page, id).getByTestId('attempt'), 'the row shows which attempt it is').toHaveText('attempt 2');
    await expect(logRow(page, id).getByTestId('why')).toHaveCount(0);
    await expect(logRow(page, id).getByRole('button', { name: 'Retry' })).toHaveCount(0);

    // Same Invalidation ID; only the target that had failed was purged again.
    const hook = (await targetRequests(token)).filter((r) => r.body.includes(id));
    const edge = (await targetRequests(`${token}-edge`)).filter((r) => r.body.includes(id));
    expect(hook, 'the failed webhook was called again').toHaveLength(2);
    expect(edge, 'the edge that had succeeded was not purged again').toHaveLength(1);

    await page.goto(`${invalidationPath(token)}/${id}`);
    if (js) await waitHydrated(page);
    const history = page.getByTestId('history').locator('li');
    await expect(history.filter({ has: page.locator('[data-status="ERROR_CDN_NODE"]') }).first()).toBeVisible();
    await expect(history.last()).toHaveAttribute('data-status', 'DONE');
    await expect(history.last()).toContainText('attempt 2');
  });
});
