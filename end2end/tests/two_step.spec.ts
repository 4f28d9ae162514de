import { createHmac } from 'node:crypto';

import { expect, openMenu, signIn, test, twoStepUser, waitHydrated } from './fixtures';

/*
 * Two-step sign-in as a user meets it: set it up from the account page
 * (QR code and key, then the app's first code), keep the recovery codes, be
 * asked for a code after the password, remember the browser, and sign in
 * with a recovery code instead of the phone. One editor per browser project
 * (seeded in global-setup), so the shared users sign in as before.
 */

/** RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totp(key: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of key.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const at4 = mac[mac.length - 1] & 15;
  return ((mac.readUInt32BE(at4) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
}

test('set up two-step sign-in, then sign in with a code, a remembered browser and a recovery code', async ({
  browser,
  baseURL,
  js,
}, testInfo) => {
  const user = twoStepUser(testInfo.project.name);
  const first = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const page = await first.newPage();
  await signIn(page, js, user, '/login?next=%2Faccount');
  await expect(page.getByTestId('two-step-state')).toHaveText('Off: your password alone signs you in.');
  await page.getByRole('link', { name: 'Set up two-step sign-in' }).click();

  await expect(page.getByRole('heading', { name: 'Set up two-step sign-in' })).toBeVisible();
  await expect(page.getByRole('img', { name: 'QR code of the authenticator key' }).locator('svg')).toBeVisible();
  const key = (await page.getByTestId('totp-secret').textContent()) ?? '';
  expect(key.replace(/ /g, '')).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel('The 6-digit code the app shows now').fill('000000');
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await expect(page.getByRole('alert')).toContainText("this is not the app's current code");
  await page.getByLabel('The 6-digit code the app shows now').fill(totp(key));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();

  await expect(page).toHaveURL(/\/account#two-step$/);
  const codes = page.getByTestId('recovery-codes').locator('li');
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.first().textContent()) ?? '';
  expect(recovery).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  await expect(page.getByTestId('two-step-state')).toContainText('On: a code from your authenticator app is asked');
  // Shown once: a reload no longer shows them.
  await page.reload();
  await expect(page.getByTestId('two-step-state')).toContainText('10 recovery codes left');
  await expect(page.getByTestId('recovery-codes')).toHaveCount(0);
  await first.close();

  // Another browser: the password, then the code; remember this browser.
  const second = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const there = await second.newPage();
  await signIn(there, js, user);
  await expect(there).toHaveURL(/\/login\/code$/);
  await expect(there.getByTestId('code-for')).toHaveText(`Signing in as ${user.email}.`);
  const codeBox = there.getByLabel('Code from your authenticator app, or a recovery code');
  await codeBox.fill('123456');
  await there.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(there.getByRole('alert')).toContainText('That code is wrong or was used already');
  await codeBox.fill(totp(key, Date.now() + 30_000));
  await there.getByLabel('Remember this browser for 30 days').check();
  await there.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(there).toHaveURL(/\/p\/demo\/invalidation/);
  // Signed out and in again in the same browser: no code asked.
  if (js) await waitHydrated(there);
  await openMenu(there);
  await there.getByRole('button', { name: 'Sign out' }).click();
  await expect(there).toHaveURL(/\/login/);
  await signIn(there, js, user);
  await expect(there).toHaveURL(/\/p\/demo\/invalidation/);
  await second.close();

  // A third browser, without the phone: a recovery code, once.
  const third = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const lost = await third.newPage();
  await signIn(lost, js, user, '/login?next=%2Faccount');
  await expect(lost).toHaveURL(/\/login\/code/);
  await lost.getByLabel('Code from your authenticator app, or a recovery code').fill(recovery.toUpperCase());
  await lost.getByRole('button', { name: 'Verify and sign in' }).click();
  await expect(lost).toHaveURL(/\/account$/);
  if (js) await waitHydrated(lost);
  await expect(lost.getByTestId('two-step-state')).toContainText('9 recovery codes left');
  await third.close();
});
