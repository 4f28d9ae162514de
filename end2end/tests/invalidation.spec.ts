import {
  DEMO,
  badge,
  createdId,
  expect,
  invalidationPath,
  logRow,
  paths,
  storageState,
  submitButton,
  submitOriginal,
  test,
  urlsBox,
  waitHydrated,
} from './fixtures';

test.use({ storageState: storageState('admin') });

test.beforeEach(async ({ open }) => {
  await open(invalidationPath(DEMO));
});

test.describe('the invalidation form', () => {
  test('submits 10 paths and shows the new Invalidation ID', async ({ page, js, uniq }) => {
    const list = paths(uniq, 10);
    if (js) {
      await urlsBox(page).fill(list.join('\n'));
      await expect(page.getByTestId('counter')).toContainText('10 / 10');
      await expect(page.getByTestId('live-errors').locator('li')).toHaveCount(0);
    }
    // Commas and line breaks both separate entries.
    const id = await submitOriginal(page, js, list.slice(0, 5).concat(list.slice(5).join(', ')));
    await expect(page.getByTestId('created')).toContainText('Invalidation ID');
    const row = logRow(page, id);
    await expect(row).toBeVisible();
    await expect(row.locator('td').nth(1)).toHaveText('Original');
    await expect(row.getByText('See links (10)')).toBeVisible();
    if (js) await expect(urlsBox(page), 'the form is cleared after a successful submit').toHaveValue('');
  });

  test('after Submit the answer has the focus, links to its details, and the new row is in view', async ({
    page,
    js,
    uniq,
  }) => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const id = await submitOriginal(page, js, paths(uniq, 1));
    const banner = page.getByTestId('created');
    const row = logRow(page, id);
    await expect(row).toBeInViewport();
    await expect(banner).toBeInViewport();
    if (js) {
      await expect(banner).toBeFocused();
      await expect(row).toHaveClass(/just-created/);
    }
    await banner.getByRole('link', { name: id }).click();
    await expect(page).toHaveURL(new RegExp(`${invalidationPath(DEMO)}/${id}$`));
  });

  test('Copy to new starts the form with an earlier invalidation’s paths', async ({ page, js, open, uniq }) => {
    const list = paths(uniq, 2);
    const id = await submitOriginal(page, js, list);
    await open(`${invalidationPath(DEMO)}/${id}`);
    await page.getByTestId('copy-to-new').click();
    await expect(page).toHaveURL(new RegExp(`[?&]copy=${id}`));
    if (js) await waitHydrated(page);
    await expect(urlsBox(page)).toHaveValue(list.join('\n'));
    await expect(page.locator('#scope-original')).toBeChecked();
    if (js) await expect(page.getByTestId('counter')).toContainText('2 / 10');
  });

  test('11 paths are blocked in the form and rejected by the server', async ({ page, js, uniq }) => {
    const list = paths(uniq, 11);
    await urlsBox(page).fill(list.join('\n'));
    if (js) {
      await expect(page.getByTestId('counter')).toContainText('11 / 10');
      await expect(page.getByTestId('counter')).toContainText('too many');
      await expect(submitButton(page)).toBeDisabled();
      // Back to 10: allowed again.
      await urlsBox(page).fill(list.slice(0, 10).join('\n'));
      await expect(page.getByTestId('counter')).toContainText('10 / 10');
      await expect(submitButton(page)).toBeEnabled();
    } else {
      await expect(submitButton(page), 'without JavaScript the server decides').toBeEnabled();
      await submitButton(page).click();
      const notice = page.getByRole('alert');
      await expect(notice).toBeVisible();
      await expect(notice).toContainText(/at most 10/);
      await expect(notice).toContainText(/\b11\b/);
      await expect(page).not.toHaveURL(/created=/);
      await expect(page.getByTestId('created')).toHaveCount(0);
      // Nothing was stored: no row lists these paths.
      await page.goto(`${invalidationPath(DEMO)}?q=${encodeURIComponent(uniq)}`);
      await expect(page.locator('[data-testid="log"] tr[data-id]')).toHaveCount(0);
    }
  });

  test('a path with host and query string shows the corrected path', async ({ page, js, uniq }) => {
    const bad = 'doc.cloudimg.io/sample.li/flat1.jpg?w=500';
    const good = `/sample.li/e2e/${uniq}/ok.jpg`;
    await urlsBox(page).fill(`${good}\n${bad}`);
    let errors;
    if (js) {
      errors = page.getByTestId('live-errors').locator('li');
      await expect(page.getByTestId('counter')).toContainText('1 / 10');
      await expect(submitButton(page)).toBeDisabled();
    } else {
      await submitButton(page).click();
      await expect(page.getByRole('alert')).toBeVisible();
      errors = page.getByRole('alert').locator('li');
      await expect(page).not.toHaveURL(/created=/);
    }
    await expect(errors).toHaveCount(1);
    await expect(errors.first()).toContainText(bad);
    await expect(errors.first().locator('code.suggestion')).toHaveText('/sample.li/flat1.jpg');

    if (js) {
      // Taking the suggestion is one click, and makes the form valid.
      await page.getByRole('button', { name: 'Use /sample.li/flat1.jpg' }).click();
      await expect(urlsBox(page)).toHaveValue(`${good}\n/sample.li/flat1.jpg`);
      await expect(page.getByTestId('live-errors').locator('li')).toHaveCount(0);
      await expect(page.getByTestId('counter')).toContainText('2 / 10');
      await expect(submitButton(page)).toBeEnabled();
    }
  });

  test('pasted full image URLs are shortened all at once', async ({ page, js }) => {
    test.skip(!js, 'the one-click fixes need JavaScript; without it the server names each entry and its fix');
    await urlsBox(page).fill(
      'https://doc.cloudimg.io/sample.li/flat1.jpg?w=500\nhttps://doc.cloudimg.io/v7/sample.li/birds.jpg?h=300\n/sample.li/flat1.jpg',
    );
    await expect(page.getByTestId('live-errors').locator('li')).toHaveCount(2);
    await expect(page.getByTestId('counter')).toContainText('1 / 10');
    await page.getByRole('button', { name: 'Shorten all 2 URLs to their paths' }).click();
    await expect(urlsBox(page)).toHaveValue('/sample.li/flat1.jpg\n/sample.li/birds.jpg\n/sample.li/flat1.jpg');
    await expect(page.getByTestId('live-errors').locator('li')).toHaveCount(0);
    // The repeated path counts once, and the counter says so.
    await expect(page.getByTestId('counter')).toContainText('2 / 10 (1 duplicate ignored)');
    await expect(page.getByTestId('shorten-all')).toHaveCount(0);

    await urlsBox(page).fill('/sample.li/a.jpg\n\n/sample.li/b.jpg\n/sample.li/a.jpg');
    await expect(page.getByTestId('counter')).toContainText('2 / 10 (1 duplicate, 1 empty line ignored)');

    // A path ending in /* says what it empties.
    await urlsBox(page).fill('/sample.li/products/*');
    await expect(page.getByTestId('prefix-note')).toContainText('every image under /sample.li/products/');
  });

  test('scope All asks for explicit confirmation', async ({ page, js }) => {
    const confirm = page.getByLabel('I understand: flush the whole cache of this token and rebuild it');
    await page.getByLabel('All — the whole cache of the token').check();
    if (js) {
      await expect(submitButton(page)).toBeDisabled();
      await confirm.check();
      await expect(submitButton(page)).toBeEnabled();
      await confirm.uncheck();
      await expect(submitButton(page)).toBeDisabled();
    } else {
      await expect(submitButton(page)).toBeEnabled();
      await submitButton(page).click();
      const notice = page.getByRole('alert');
      await expect(notice).toContainText('tick the confirmation');
      await expect(page).not.toHaveURL(/created=/);
      await page.getByLabel('All — the whole cache of the token').check();
    }
    await confirm.check();
    await submitButton(page).click();
    const id = await createdId(page, js);
    const row = logRow(page, id);
    await expect(row.locator('td').nth(1)).toHaveText('All');
    await expect(row.locator('td').nth(4), 'scope All has no links').toHaveText('—');
    await expect(badge(row)).toBeVisible();
  });
});

/*
 * A path under a host the project does not serve from can never be cached
 * by the edge: the form says so as it is typed (with JavaScript), naming the
 * project's origin hosts and linking to Settings.
 */
test('a path outside the origin hosts gets a warning', async ({ page, js }) => {
  test.skip(!js, 'the form checks as it is typed');
  await page.goto(invalidationPath(DEMO));
  await waitHydrated(page);
  await urlsBox(page).fill('/sample.li/a.jpg\n/other.example/b.jpg\n/Other.example/c.jpg');
  const warning = page.getByTestId('host-warning');
  await expect(warning).toContainText("other.example is not among this project's origin hosts (sample.li)");
  await expect(warning.getByRole('link', { name: 'Settings' })).toHaveAttribute('href', `/p/${DEMO}/settings`);
  await urlsBox(page).fill('/sample.li/a.jpg');
  await expect(warning).toHaveCount(0);
});
