import { expect, storageState, test, waitHydrated } from './fixtures';

/*
 * Single sign-on end to end: the owner adds the test identity provider
 * (oidc-provider, started by the global setup) on /sso, and a fresh browser
 * signs in with "Sign in with …" on the sign-in page, through the provider
 * and back, landing where it was going. One provider per Playwright project.
 */
test('an owner adds an identity provider and a user signs in with it', async ({ browser, baseURL, js }, testInfo) => {
  const issuer = process.env.IMGFLUSH_E2E_OIDC_ISSUER;
  expect(issuer, 'the global setup started the identity provider').toBeTruthy();
  const name = `Test IdP ${testInfo.project.name}`;

  const owners = await browser.newContext({ baseURL, javaScriptEnabled: js, storageState: storageState('owner') });
  const owner = await owners.newPage();
  await owner.goto('/sso');
  if (js) await waitHydrated(owner);
  await owner.getByLabel('Display name').fill(name);
  await owner.getByLabel('Issuer URL').fill(issuer ?? '');
  await owner.getByLabel('Client ID').fill('imgflush');
  await owner.getByLabel('Client secret').fill('imgflush-secret');
  await owner.getByLabel('Allowed e-mail domains').fill('example.com');
  await owner.getByRole('button', { name: 'Add provider' }).click();
  const row = owner.getByTestId('sso-providers').locator(`tr[data-provider="${name}"]`);
  await expect(row).toContainText('(secret set)');
  await expect(row).not.toContainText('imgflush-secret');
  await owners.close();

  const users = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const page = await users.newPage();
  await page.goto('/login?next=%2Faccount');
  if (js) await waitHydrated(page);
  await page.getByRole('link', { name: `Sign in with ${name}`, exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('user-email')).toHaveText('sso.user@example.com');
  await expect(page.getByRole('heading', { name: 'Where you are signed in' })).toBeVisible();
  await users.close();
});

test('a refused single sign-on says why on the sign-in page', async ({ page, js }) => {
  await page.goto('/login/sso/callback?code=x&state=forged');
  await expect(page).toHaveURL(/\/login\?error=sso_state/);
  if (js) await waitHydrated(page);
  await expect(page.getByRole('alert')).toHaveText(
    'That single sign-on attempt expired or was already used. Please start again.',
  );
});
