import {
  DEMO,
  badge,
  expect,
  invalidationPath,
  localTimeText,
  logRow,
  paths,
  refreshUntil,
  storageState,
  submitOn,
  targetRequests,
  test,
  utcText,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('admin') });

test.describe('the Invalidation log', () => {
  test('a new row appears and reaches Done after Refresh', async ({ page, js, uniq }) => {
    const list = paths(uniq, 2);
    const id = await submitOn(page, js, DEMO, list);
    const row = logRow(page, id);
    await expect(row).toBeVisible();
    await expect(row.locator('td.who')).toHaveText('admin@example.com');
    if (js) {
      // Refresh must reload the log in place, not the page.
      await page.evaluate(() => ((window as unknown as { __noReload: number }).__noReload = 1));
    }
    await refreshUntil(page, js, id, 'DONE');
    await expect(badge(row)).toHaveText('Done');
    await expect(row.getByRole('button', { name: 'Retry' }), 'no Retry on a Done row').toHaveCount(0);
    if (js) {
      const marker = await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload);
      expect(marker, 'Refresh did not reload the whole page').toBe(1);
    }

    // Every target of the project was asked to purge these paths.
    const edge = (await targetRequests('demo-edge')).filter((r) => r.body.includes(id));
    expect(edge).toHaveLength(1);
    expect(edge[0].headers['authorization']).toBe('Bearer edge-secret');
    expect(JSON.parse(edge[0].body)).toMatchObject({ token: DEMO, paths: list });
    const bans = (await targetRequests('demo-varnish')).filter((r) => r.headers['x-invalidation-id'] === id);
    // A CDN node is purged twice: once, and again worker.cdn_repeat_ms later
    // (a response on its way while the first purge ran is caught by the second).
    expect(bans.map((r) => r.method)).toEqual(['PURGE', 'PURGE', 'PURGE', 'PURGE']);
    expect(bans.map((r) => r.headers['x-purge-path']).sort()).toEqual([...list, ...list].sort());
    expect(bans.every((r) => r.headers['x-purge-token'] === DEMO && r.headers['x-purge-secret'] === 'ban-secret')).toBe(true);
    expect((await targetRequests('demo-hook')).filter((r) => r.body.includes(id))).toHaveLength(1);

    // The detail page tells the same story.
    // The live log may insert other tests' rows above this one at any moment
    // (a click could land on a row that just moved there): follow the link's address.
    await expect(row.getByRole('link', { name: id })).toHaveAttribute('href', `${invalidationPath(DEMO)}/${id}`);
    await page.goto(`${invalidationPath(DEMO)}/${id}`);
    if (js) await waitHydrated(page);
    const history = page.getByTestId('history').locator('li');
    await expect(history.first()).toHaveAttribute('data-status', 'RECEIVED');
    await expect(history.last()).toHaveAttribute('data-status', 'DONE');
    const targets = page.getByTestId('target-results').locator('tr[data-target]');
    await expect(targets).toHaveCount(3);
    for (const name of ['edge-1', 'varnish-1', 'hook-1']) {
      await expect(page.locator(`[data-testid="target-results"] tr[data-target="${name}"]`)).toHaveAttribute('data-state', 'ok');
    }
  });

  test('See links lists the submitted paths', async ({ page, js, uniq }) => {
    const list = paths(uniq, 3);
    const id = await submitOn(page, js, DEMO, list);
    const row = logRow(page, id);
    const links = row.locator('details');
    await expect(links.locator('summary')).toHaveText('See links (3)');
    await expect(links.locator('li').first()).toBeHidden();
    await links.locator('summary').click();
    await expect(links.locator('li')).toHaveText(list);
  });

  test('search by Invalidation ID finds exactly that row', async ({ page, js, uniq, open }) => {
    const id = await submitOn(page, js, DEMO, paths(uniq, 1));
    await open(invalidationPath(DEMO));
    await page.getByRole('searchbox', { name: /path prefix/ }).fill(id);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(new RegExp(`[?&]q=${id}`));
    await expect(page.locator('[data-testid="log"] tr[data-id]')).toHaveCount(1);
    await expect(logRow(page, id)).toBeVisible();
  });
});

test.describe('the Date column', () => {
  for (const timezoneId of ['Asia/Tokyo', 'America/Los_Angeles']) {
    test.describe(timezoneId, () => {
      test.use({ timezoneId });

      test(`shows the submission time in the browser's zone (${timezoneId})`, async ({ page, js, uniq }) => {
        const before = Date.now();
        const id = await submitOn(page, js, DEMO, paths(uniq, 1));
        const after = Date.now();
        const time = logRow(page, id).locator('time');
        const iso = await time.getAttribute('datetime');
        expect(iso, 'SSR sends UTC in datetime').toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        const at = Date.parse(iso!);
        expect(at).toBeGreaterThanOrEqual(before - 5_000);
        expect(at).toBeLessThanOrEqual(after + 5_000);
        if (js) {
          const expected = localTimeText(iso!, timezoneId);
          expect(expected).toContain(timezoneId === 'Asia/Tokyo' ? 'UTC+09:00' : 'UTC-0');
          await expect(time).toHaveText(expected);
        } else {
          // Without JavaScript the server's UTC rendering stays.
          await expect(time).toHaveText(utcText(iso!));
        }
      });
    });
  }
});
