import { DEMO, createdId, expect, invalidationPath, localTimeText, logRow, storageState, submitButton, test, waitHydrated } from './fixtures';

test.use({ storageState: storageState('admin') });

/*
 * The third scope: tags typed in their own box (checked as typed, with
 * JavaScript), a Preview that asks every target what the purge would remove
 * (the demo project's edge counts; its Varnish node and hook cannot say),
 * then the submission, shown in the log as a Tag invalidation.
 */
test('a tag invalidation, previewed before it is submitted', async ({ page, js, open, uniq }) => {
  await open(invalidationPath(DEMO));
  await page.locator('label').filter({ hasText: 'Tag — every image carrying a cache tag' }).click();
  await expect(page.locator('#scope-tag')).toBeChecked();
  const tags = page.getByLabel(/Cache tags/);
  await expect(tags).toBeVisible();
  await expect(page.locator('#urls'), 'the paths box belongs to scope Original').toBeHidden();
  const tag = `t-${uniq}`;
  if (js) {
    await tags.fill('imgflush-x');
    await expect(page.getByTestId('tag-errors')).toContainText('reserved');
    await expect(submitButton(page)).toBeDisabled();
    await tags.fill(`${tag} products`);
    await expect(page.getByTestId('tag-errors').locator('li')).toHaveCount(0);
    await page.getByTestId('preview').click();
    const preview = page.getByTestId('preview-result');
    await expect(preview).toContainText('would remove 1,204 objects (83.0 MB) on the edges');
    await expect(preview.locator('li[data-target="edge-1"]')).toHaveText('would remove 1,204 objects (83.0 MB) on edge-1');
    await expect(preview.locator('li[data-target="varnish-1"]')).toContainText('not countable');
    await expect(preview).toContainText('nothing was purged');
    // An edit makes the preview stale: it goes.
    await tags.fill(`${tag} products shoes`);
    await expect(preview).toHaveCount(0);
    await tags.fill(`${tag} products`);
  } else {
    await expect(page.getByTestId('preview'), 'Preview needs JavaScript').toBeHidden();
    await tags.fill(`${tag} products`);
  }
  await submitButton(page).click();
  const id = await createdId(page, js);
  const row = logRow(page, id);
  await expect(row.locator('td').nth(1)).toHaveText('Tag');
  await expect(row.getByText('See tags (2)')).toBeVisible();
  await open(`${invalidationPath(DEMO)}/${id}`);
  await expect(page.getByRole('heading', { name: 'Tags' })).toBeVisible();
  await expect(page.getByTestId('tags')).toContainText(tag);
  // The log's search finds it by the tag, exactly.
  await open(`${invalidationPath(DEMO)}?q=${encodeURIComponent(tag)}`);
  await expect(logRow(page, id)).toBeVisible();
});

/** `at` as a `datetime-local` value in `timeZone`: `YYYY-MM-DDTHH:MM`. */
function localInput(at: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

test.describe('Asia/Tokyo', () => {
  test.use({ timezoneId: 'Asia/Tokyo' });

  /*
   * A scheduled invalidation: the time is typed in the user's zone
   * (JavaScript) or in UTC (without it, as the label says); it is stored at
   * once, shown as scheduled in that zone, and can be cancelled until then.
   */
  test('a scheduled invalidation is shown in the user’s time zone', async ({ page, js, open, uniq }) => {
    await open(invalidationPath(DEMO));
    const zone = js ? 'Asia/Tokyo' : 'UTC';
    await expect(page.getByText(js ? 'Run at (optional, your time zone)' : 'Run at (optional, UTC)')).toBeVisible();
    const at = new Date(Date.now() + 2 * 24 * 3600 * 1000);
    at.setUTCSeconds(0, 0);
    await page.locator('#urls').fill(`/sample.li/${uniq}-later.jpg`);
    await page.getByTestId('not-before').fill(localInput(at, zone));
    await submitButton(page).click();
    const id = await createdId(page, js);
    const row = logRow(page, id);
    await expect(row).toHaveAttribute('data-status', 'RECEIVED');
    const shown = js ? localTimeText(at.toISOString(), 'Asia/Tokyo') : at.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
    await expect(row.getByTestId('scheduled')).toContainText(`scheduled for ${shown}`);
    await open(`${invalidationPath(DEMO)}/${id}`);
    await expect(page.getByTestId('scheduled-for')).toContainText(shown);
    await page.getByRole('button', { name: 'Cancel this invalidation' }).click();
    await expect(page.locator('dl.summary [data-status]').first()).toHaveAttribute('data-status', 'CANCELLED');
  });
});
