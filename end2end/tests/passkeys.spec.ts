import { ADMIN, expect, openMenu, passkeyUser, signIn, storageState, test, waitHydrated } from './fixtures';

/*
 * Passkeys as a user meets them, with Chromium's virtual authenticator (the
 * DevTools protocol's WebAuthn domain) standing in for the device's screen
 * lock: add one on the account page, sign in with it and no password, then
 * meet it as the second step after the password. A relying party is a host
 * name, so this journey runs at http://localhost:PORT; the same console at
 * 127.0.0.1 says why it cannot make one there. Without JavaScript the pages
 * offer no passkey button at all (the device is reached from script).
 */

test('add a passkey, sign in with it instead of the password, and as the second step', async ({
  browser,
  baseURL,
  js,
}, testInfo) => {
  test.skip(!js, 'a passkey is asked from the device by script');
  const user = passkeyUser(testInfo.retry);
  const byName = baseURL!.replace('127.0.0.1', 'localhost');
  const context = await browser.newContext({ baseURL: byName });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await signIn(page, js, user, '/login?next=%2Faccount');
  await expect(page).toHaveURL(/\/account$/);
  await waitHydrated(page);
  const section = page.getByTestId('passkeys');
  await expect(section.getByTestId('passkey-none')).toBeVisible();
  await expect(section.getByTestId('passkeys-need-script')).toHaveCount(0);
  await section.getByLabel('Name').fill('Work laptop');
  await section.getByLabel('Current password').fill(user.password);
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(section.getByTestId('passkey-added')).toHaveText('Passkey added.');
  await expect(section.getByTestId('passkey-list').getByRole('row', { name: /Work laptop/ })).toContainText('never');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential, 'discoverable: it names the account').toBe(true);
  await expect(page.getByTestId('two-step-state')).toContainText('On with your passkeys');

  // Signed out, the sign-in page offers the passkey: no e-mail, no password.
  await openMenu(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/login?next=%2Faccount');
  await waitHydrated(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await waitHydrated(page);
  await expect(page.getByTestId('passkey-list').getByRole('row', { name: /Work laptop/ })).not.toContainText('never');

  // The password now asks for the passkey next (there is no app code to type).
  await openMenu(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await signIn(page, js, user);
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitHydrated(page);
  await expect(page.getByLabel('Code from your authenticator app, or a recovery code')).toHaveCount(0);
  await page.getByRole('button', { name: 'Use a passkey instead' }).click();
  await expect(page).toHaveURL(/\/p\/demo\/invalidation/);

  // A device without the passkey: the browser's refusal is said in words.
  await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
  await openMenu(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.goto('/login');
  await waitHydrated(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByTestId('passkey-error')).toBeVisible({ timeout: 15_000 });
  await expect(page).toHaveURL(/\/login/);
  await context.close();

  // Opened by IP address, the console says why it cannot make a passkey.
  const byIp = await browser.newContext({ baseURL, storageState: storageState('admin') });
  const there = await byIp.newPage();
  await there.goto('/account');
  await waitHydrated(there);
  await there.getByTestId('passkeys').getByLabel('Name').fill('Phone');
  await there.getByTestId('passkeys').getByLabel('Current password').fill(ADMIN.password);
  await there.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(there.getByTestId('passkey-error')).toContainText('host name');
  await byIp.close();
});

test('without JavaScript the account page says passkeys need it', async ({ browser, baseURL, js }) => {
  test.skip(js, 'the page without script');
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false, storageState: storageState('admin') });
  const page = await context.newPage();
  await page.goto('/account');
  const section = page.getByTestId('passkeys');
  await expect(section.getByText('Passkeys need JavaScript.')).toBeVisible();
  await expect(section.getByRole('button', { name: 'Add a passkey' })).toBeHidden();
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toBeHidden();
  await context.close();
});
