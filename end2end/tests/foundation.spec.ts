import { ADMIN, DEMO, expect, invalidationPath, signIn, test, waitHydrated } from './fixtures';

// No stored session here: every test starts signed out.

test.describe('signing in and out', () => {
  test('a wrong password shows an error and keeps the user on the sign-in page', async ({ page, js }) => {
    await signIn(page, js, { email: ADMIN.email, password: 'not-the-password' });
    await expect(page).toHaveURL(/\/login\?(.*&)?error=invalid/);
    await expect(page.getByRole('alert')).toHaveText('Wrong e-mail or password.');
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
    // No session was created: a console page still sends us back to sign in.
    await page.goto(invalidationPath(DEMO));
    await expect(page).toHaveURL(/\/login\?/);
  });

  test('the right password lands on the Invalidation page of the first project', async ({ page, js }) => {
    await signIn(page, js, ADMIN);
    await expect(page).toHaveURL(invalidationPath(DEMO));
    if (js) await waitHydrated(page);
    await expect(page.getByRole('heading', { level: 1, name: 'Invalidation' })).toBeVisible();
    await expect(page.getByTestId('user-email')).toHaveText(ADMIN.email);
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });

  test('signing out returns to the sign-in page and ends the session', async ({ page, js }) => {
    await signIn(page, js, ADMIN);
    await expect(page).toHaveURL(invalidationPath(DEMO));
    if (js) await waitHydrated(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByLabel('E-mail')).toBeVisible();
    await page.goto(invalidationPath(DEMO));
    await expect(page).toHaveURL(/\/login\?next=/);
  });

  test('a console page visited without a session redirects to sign-in and back after it', async ({ page, js }) => {
    const wanted = `${invalidationPath(DEMO)}?status=DONE`;
    await page.goto(wanted);
    await expect(page).toHaveURL(/\/login\?next=/);
    expect(new URL(page.url()).searchParams.get('next')).toBe(wanted);
    if (js) await waitHydrated(page);
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();

    // The home page too.
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=%2F$|\/login\?next=\/$/);

    // Signing in from the redirect goes to the page first asked for.
    await signIn(page, js, ADMIN, `/login?next=${encodeURIComponent(wanted)}`);
    await expect(page).toHaveURL(wanted);
    await expect(page.getByTestId('user-email')).toHaveText(ADMIN.email);
  });
});
