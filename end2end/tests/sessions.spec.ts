import { SUPPORT, expect, signIn, test, waitHydrated } from './fixtures';

/*
 * "Where you are signed in" on the account page: a second browser's session
 * is listed with its device and address, signed out from the first, and its
 * next page goes to the sign-in page. Fresh sign-ins only (the shared
 * storage states' sessions are never ended here).
 */
const OTHER_BROWSER: Record<string, { ua: string; device: string }> = {
  hydrated: {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
    device: 'Firefox on Windows',
  },
  'no-js': {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    device: 'Safari on macOS',
  },
  phone: {
    ua: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 OPR/79.0',
    device: 'Opera on Android',
  },
};

test('a session in another browser is listed and signed out from here', async ({ browser, baseURL, js }, testInfo) => {
  const other = OTHER_BROWSER[testInfo.project.name];
  const mine = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const theirs = await browser.newContext({ baseURL, javaScriptEnabled: js, userAgent: other.ua });
  const here = await mine.newPage();
  const there = await theirs.newPage();
  await signIn(there, js, SUPPORT);
  await expect(there).toHaveURL(/\/p\//);
  await signIn(here, js, SUPPORT, '/login?next=%2Faccount');
  await expect(here.getByRole('heading', { name: 'Where you are signed in' })).toBeVisible();
  if (js) await waitHydrated(here);

  const list = here.getByTestId('session-list');
  await expect(list.locator('tr[data-current="true"]')).toContainText('(this session)');
  const row = list.locator('tr', { hasText: other.device }).first();
  await expect(row).toContainText('127.0.0.1');
  await row.getByRole('button', { name: `Sign out ${other.device} at 127.0.0.1` }).click();
  const notice = here.getByTestId('session-ended');
  await expect(notice).toHaveText('Signed out that session: its next request goes to the sign-in page.');
  if (js) await expect(notice).toBeFocused();

  await there.goto('/account');
  await expect(there).toHaveURL(/\/login\?next=(%2F|\/)account/);
  await here.goto('/account');
  await expect(here.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await mine.close();
  await theirs.close();
});
