import { DEMO, SUPPORT, expect, invalidationPath, storageState, test } from './fixtures';

/*
 * Without JavaScript, everything must be in the HTML the server sends. Leptos'
 * default out-of-order streaming sends whatever is still loading as <template>
 * fragments after </html> and moves them into place with a script: without
 * JavaScript the header, the form and the log then never appear (or appear only
 * when the data happened to be ready before the first chunk — a race).
 */
test.describe('without JavaScript', () => {
  test.beforeEach(({ js }) => {
    test.skip(js, 'about pages rendered without JavaScript');
  });

  test.describe('as an admin', () => {
    test.use({ storageState: storageState('admin') });

    test('the Invalidation page arrives complete, with no streamed fragments left behind', async ({ page }) => {
      for (let i = 0; i < 3; i++) {
        await page.goto(invalidationPath(DEMO));
        await expect(page.locator('template'), 'no out-of-order <template> fragments').toHaveCount(0);
        await expect(page.getByTestId('user-email')).toBeVisible();
        await expect(page.locator('textarea#urls')).toBeVisible();
        await expect(page.getByTestId('log').or(page.getByTestId('log-empty'))).toBeVisible();
      }
    });
  });

  test.describe('as a support user', () => {
    test.use({ storageState: storageState('support') });

    test('the read-only notice is in the HTML', async ({ page }) => {
      await page.goto(invalidationPath(DEMO));
      await expect(page.locator('template')).toHaveCount(0);
      await expect(page.getByTestId('user-email')).toHaveText(SUPPORT.email);
      await expect(page.getByTestId('read-only')).toBeVisible();
    });
  });
});
