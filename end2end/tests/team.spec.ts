import {
  DEMO,
  FAILING,
  OWNER,
  STAFF,
  SUPPORT,
  badge,
  expect,
  flakyToken,
  invalidationPath,
  logRow,
  openMenu,
  paths,
  refreshUntil,
  settle,
  signIn,
  storageState,
  submitAsAdmin,
  submitOn,
  submitOriginal,
  test,
  waitHydrated,
} from './fixtures';
import type { Page } from '@playwright/test';

/** An owner's page creates project `token` named `name` on the Projects page. */
async function createProject(op: Page, js: boolean, token: string, name: string): Promise<void> {
  await op.goto('/projects');
  if (js) await waitHydrated(op);
  await op.getByLabel('Token').fill(token);
  await op.getByLabel('Name', { exact: true }).fill(name);
  await op.getByLabel('Allowed origin hosts (one per line)').fill('img.shop.example');
  await op.getByRole('button', { name: 'Create project' }).click();
  await expect(op.getByTestId('project-created')).toContainText(token);
  await expect(op.locator(`tr[data-project="${token}"]`)).toBeVisible();
}

/** Adds `email` as `role` on project `token`'s Members page; answers the one-time link shown. */
async function addMember(op: Page, js: boolean, token: string, email: string, role: string): Promise<string> {
  await op.goto(`/p/${token}/members`);
  if (js) await waitHydrated(op);
  await op.getByLabel('E-mail').fill(email);
  await op.getByLabel(/^Role/).selectOption(role);
  await op.getByRole('button', { name: 'Add member' }).click();
  const link = (await op.getByTestId('invite-link').textContent())?.trim() ?? '';
  // In full, to paste into an e-mail.
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invite\/\w{32}$/);
  // The form is ready for the next member.
  await expect(op.getByLabel('E-mail')).toHaveValue('');
  return link;
}

/*
 * The operator's console, end to end: an owner creates a project and invites an
 * editor; the editor sets a password through the link, submits, and sees the
 * invalidation turn Done (live, without Refresh, when JavaScript runs); an
 * admin demotes them to support, then removes them, which ends their session.
 */
test('an owner creates a project, invites an editor, demotes and removes them', async ({ page, js, browser, baseURL, allowConsoleError }) => {
  // The removed editor's open log page refreshes live once more: its session has ended (401).
  allowConsoleError(/status of 401 .*\/sfn\//);
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}${Date.now().toString(36)}${rand}`;
  const editorEmail = `editor-${token}@example.com`;
  const password = 'a long enough passphrase';

  const owner = await browser.newContext({ baseURL, storageState: storageState('owner'), javaScriptEnabled: js });
  try {
    const op = await owner.newPage();
    await createProject(op, js, token, `Shop ${token}`);
    const link = await addMember(op, js, token, editorEmail, 'editor');

    // The editor, in a browser of their own, accepts the invitation.
    await page.goto(link);
    if (js) await waitHydrated(page);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Password again').fill(password);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await expect(page).toHaveURL(invalidationPath(token));
    await settle(page, js);
    await expect(page.getByTestId('user-email')).toHaveText(editorEmail);

    const id = await submitOriginal(page, js, paths(token, 1));
    if (js) {
      // No Refresh: the live log shows the status change.
      await expect(badge(logRow(page, id)), 'the row turns Done by itself').toHaveText('Done', { timeout: 15_000 });
    } else {
      await refreshUntil(page, js, id, 'DONE');
    }

    // The owner (admin of every project) demotes the editor to support.
    await op.goto(`/p/${token}/members`);
    if (js) await waitHydrated(op);
    const row = op.locator(`tr[data-member="${editorEmail}"]`);
    await row.getByLabel(`New role for ${editorEmail}`).selectOption('support');
    await row.getByRole('button', { name: 'Change' }).click();
    await expect(op.locator(`tr[data-member="${editorEmail}"] td`).nth(1)).toHaveText('Support');
    // The change's answer replaces the invitation's banner.
    await expect(op.getByTestId('member-changed')).toHaveText(`${editorEmail} is now Support.`);
    if (js) await expect(op.getByTestId('member-changed')).toBeFocused();
    await expect(op.getByTestId('member-added')).toHaveCount(0);

    await page.goto(invalidationPath(token));
    if (js) await waitHydrated(page);
    await expect(page.getByTestId('read-only')).toBeVisible();
    await expect(page.locator('textarea#urls')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);

    // Removed from their only project: signed out at the next request.
    // Remove asks first, saying what it does, then says what it did.
    const member = op.locator(`tr[data-member="${editorEmail}"]`);
    await member.getByText('Remove', { exact: true }).click();
    await expect(member).toContainText(`${editorEmail} loses access to this project at once`);
    await member.getByRole('button', { name: `Remove ${editorEmail}` }).click();
    await expect(op.getByTestId('member-changed')).toContainText(`Removed ${editorEmail} from the project`);
    if (js) await expect(op.getByTestId('member-changed')).toBeFocused();
    await expect(member).toHaveCount(0);
    await page.goto(invalidationPath(token));
    await expect(page).toHaveURL(/\/login\?next=/);
    // Signing in again, they are told they are in no project (with the header and Sign out).
    await page.goto('/login');
    await page.getByLabel('E-mail').fill(editorEmail);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('no-projects')).toContainText('Your account is not a member of any project');
    await expect(page.getByTestId('user-email')).toHaveText(editorEmail);
    await openMenu(page);
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  } finally {
    await owner.close();
  }
});

test.describe('the lookup box', () => {
  test.use({ storageState: storageState('staff') });

  test('takes a staff user to any project’s Invalidation ID', async ({ page, js, browser, baseURL, uniq }) => {
    const id = await submitAsAdmin(browser, baseURL, js, FAILING, paths(uniq, 1));
    await page.goto(invalidationPath(DEMO));
    if (js) await waitHydrated(page);
    await expect(page.getByTestId('user-email')).toHaveText(STAFF.email);
    await page.getByLabel('Invalidation ID or URL').fill(`${baseURL}/p/${FAILING}/invalidation/${id}`);
    await page.getByRole('button', { name: 'Find' }).click();
    await expect(page).toHaveURL(`${invalidationPath(FAILING)}/${id}`);
    await settle(page, js);
    await expect(page.getByRole('heading', { name: `Invalidation ${id}` })).toBeVisible();
  });

  test('takes the first 8 characters of an ID, as a customer reads them out', async ({
    page,
    js,
    browser,
    baseURL,
    uniq,
    allowConsoleError,
  }) => {
    const id = await submitAsAdmin(browser, baseURL, js, FAILING, paths(uniq, 1));
    await page.goto(invalidationPath(DEMO));
    if (js) await waitHydrated(page);
    await page.getByLabel('Invalidation ID or URL').fill(id.slice(0, 8));
    await page.getByRole('button', { name: 'Find' }).click();
    // IDs made in the same minute share their first 8 characters: one match
    // opens it, several are listed newest first.
    await expect(page).toHaveURL(/\/lookup\?|\/invalidation\//);
    if (page.url().includes('/lookup?')) {
      await expect(page.getByRole('heading', { name: `Invalidation IDs starting with ${id.slice(0, 8)}` })).toBeVisible();
      await page.getByTestId('prefix-matches').getByRole('link', { name: id }).click();
    }
    await expect(page).toHaveURL(`${invalidationPath(FAILING)}/${id}`);
    await settle(page, js);
    await expect(page.getByRole('heading', { name: `Invalidation ${id}` })).toBeVisible();

    // Nothing starts with this: a 404 that shows the query back.
    allowConsoleError(/status of 404 .*\/lookup\?q=ffffffff/);
    await page.goto('/lookup?q=ffffffff');
    await expect(page.getByTestId('prefix-none')).toHaveText('No invalidation has an ID starting with ffffffff.');
  });
});

test.describe('the lookup box for a member of other projects', () => {
  test.use({ storageState: storageState('support') });

  test('answers not found for another project’s ID', async ({ page, js, browser, baseURL, uniq, allowConsoleError }) => {
    const foreign = flakyToken(test.info().project.name);
    const id = await submitAsAdmin(browser, baseURL, js, foreign, paths(uniq, 1));
    allowConsoleError(/status of 404/);
    await page.goto(invalidationPath(DEMO));
    if (js) await waitHydrated(page);
    await expect(page.getByTestId('user-email')).toHaveText(SUPPORT.email);
    await page.getByLabel('Invalidation ID or URL').fill(id);
    await page.getByRole('button', { name: 'Find' }).click();
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
    expect(page.url()).toContain('/lookup?q=');
    await expect(page.getByTestId('id-none'), 'the ID said back').toContainText(id);
    await expect(page.getByText(foreign)).toHaveCount(0);
  });
});

test.describe('the live log', () => {
  test.use({ storageState: storageState('support') });

  test('shows a new invalidation from elsewhere and its status changes without Refresh', async ({ page, js, browser, baseURL, uniq }) => {
    test.skip(!js, 'without JavaScript the page stays as it was');
    await page.goto(invalidationPath(DEMO));
    await waitHydrated(page);
    const admin = await browser.newContext({ baseURL, storageState: storageState('admin') });
    try {
      // Submitted elsewhere (another session, as an API client would): never in this page.
      const r = await admin.request.post('/sfn/submit_invalidation', {
        form: { project: DEMO, scope: 'original', urls: paths(uniq, 1)[0] },
        headers: { Origin: baseURL!, Accept: 'application/json' },
        maxRedirects: 0,
      });
      expect(r.status()).toBe(200);
      const id = (await r.json()) as string;
      const row = logRow(page, id);
      await expect(row, 'the new row appears at the top').toBeVisible({ timeout: 15_000 });
      await expect(page.locator('[data-testid="log"] tbody tr').first()).toHaveAttribute('data-id', id);
      await expect(badge(row)).toHaveText('Done', { timeout: 15_000 });
    } finally {
      await admin.close();
    }
  });
});

/*
 * Removing a member who never accepted ends the link they were sent: opened
 * afterwards, it says it no longer works instead of making an account.
 */
test('removing a member who has not accepted yet ends their invitation link', async ({ page, js, browser, baseURL }) => {
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}r${Date.now().toString(36)}${rand}`;
  const email = `invited-${token}@example.com`;
  // A session of its own: without JavaScript the answers ride on the
  // session's flash, which the shared owner session's other tests would take.
  const owner = await browser.newContext({ baseURL, javaScriptEnabled: js });
  try {
    const op = await owner.newPage();
    await signIn(op, js, OWNER);
    await expect(op.getByTestId('user-email')).toHaveText(OWNER.email);
    await createProject(op, js, token, `Withdrawn ${token}`);
    const link = await addMember(op, js, token, email, 'editor');
    await op.goto(`/p/${token}/members`);
    if (js) await waitHydrated(op);
    const member = op.locator(`tr[data-member="${email}"]`);
    await expect(member).toContainText('invited, has not accepted yet');
    await member.getByText('Remove', { exact: true }).click();
    await member.getByRole('button', { name: `Remove ${email}` }).click();
    await expect(op.getByTestId('member-changed')).toContainText(
      'an invitation link they still held no longer works',
    );
    await expect(member).toHaveCount(0);

    await page.goto(link);
    if (js) await waitHydrated(page);
    await expect(page.getByTestId('invite-invalid')).toContainText(
      'This invitation link is not valid: it has expired, was used already, or its member was removed.',
    );
    await expect(page.getByLabel('Password', { exact: true })).toHaveCount(0);
  } finally {
    await owner.close();
  }
});

/*
 * Adding an existing account grants nothing by itself: the admin gets a link
 * like any other, and the account joins only with its own password.
 */
test('an existing account joins a project through its link with its own password', async ({ page, js, browser, baseURL, allowConsoleError }) => {
  // The wrong password below is answered 400 on purpose.
  allowConsoleError(/status of 400 .*\/sfn\/accept_join/);
  const rand = Math.random().toString(36).slice(2, 8);
  const token = `z${js ? 'j' : 'n'}x${Date.now().toString(36)}${rand}`;
  const owner = await browser.newContext({ baseURL, storageState: storageState('owner'), javaScriptEnabled: js });
  try {
    const op = await owner.newPage();
    await createProject(op, js, token, `Join ${token}`);
    const link = await addMember(op, js, token, SUPPORT.email, 'editor');
    await op.goto(`/p/${token}/members`);
    await expect(op.locator(`tr[data-member="${SUPPORT.email}"]`)).toContainText('invited, has not accepted yet');

    // The account's owner, signed out, opens the link: it asks for their own password.
    await page.goto(link);
    if (js) await waitHydrated(page);
    await expect(page.getByTestId('invite-join')).toContainText(`Join ${token}`);
    if (js) {
      await page.getByLabel('Your password').fill('not the password');
      await page.getByRole('button', { name: 'Join and sign in' }).click();
      await expect(page.getByRole('alert')).toContainText('not the password of this account');
    }
    await page.getByLabel('Your password').fill(SUPPORT.password);
    await page.getByRole('button', { name: 'Join and sign in' }).click();
    await expect(page).toHaveURL(invalidationPath(token));
    await settle(page, js);
    await expect(page.getByTestId('user-email')).toHaveText(SUPPORT.email);
  } finally {
    await owner.close();
  }
});

/*
 * API keys: a new key's secret is shown once; Revoke asks first, saying what
 * it does, then says what it did, and the API refuses the key from then on.
 */
test.describe('API keys', () => {
  test.use({ storageState: storageState('admin') });

  test('a key is created, revoked after a confirmation, and refused', async ({ page, js, request }) => {
    const name = `ci-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await page.goto(`/p/${DEMO}/api-keys`);
    if (js) await waitHydrated(page);
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
    expect(secret).toMatch(/^imf_/);
    const post = () =>
      request.post('/api/v1/invalidations', {
        headers: { 'X-Client-Key': secret },
        data: { scope: 'original', urls: [`/keys.example/${name}.jpg`] },
      });
    expect((await post()).status()).not.toBe(401);

    const row = page.locator(`tr[data-key="${name}"]`);
    await row.getByText('Revoke', { exact: true }).click();
    await expect(row).toContainText(`Every request that presents “${name}” will be refused at once`);
    await row.getByRole('button', { name: `Revoke ${name}` }).click();
    const notice = page.getByTestId('key-revoked');
    await expect(notice).toHaveText(`Revoked the key “${name}”: requests that present it are refused (401) from now on.`);
    if (js) await expect(notice).toBeFocused();
    await expect(row).toContainText('revoked');
    expect((await post()).status()).toBe(401);
  });

  test('a key with a lifetime and networks is rolled: both secrets work through the grace period', async ({ page, js, request }) => {
    const name = `deploy-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await page.goto(`/p/${DEMO}/api-keys`);
    if (js) await waitHydrated(page);
    await page.getByLabel('Name').fill(name);
    await page.getByText('Lifetime and networks (optional)').click();
    await page.getByLabel('Expires after').selectOption('30');
    await page.getByLabel('Only from these networks').fill('127.0.0.0/8 ::1');
    await page.getByRole('button', { name: 'Create key' }).click();
    const first = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
    expect(first).toMatch(/^imf_/);
    const prefix = (secret: string) => secret.split('_')[1];
    const use = (secret: string) =>
      request.get('/api/v1/invalidations?limit=1', { headers: { Authorization: `Bearer ${secret}` } });
    expect((await use(first)).status()).toBe(200);

    // The row: its networks, its expiry, and (after a reload) the last use's address.
    await page.reload();
    if (js) await waitHydrated(page);
    const old = page.locator(`tr[data-prefix="${prefix(first)}"]`);
    await expect(old.getByTestId('key-networks')).toHaveText('127.0.0.0/8 ::1/128');
    await expect(old.getByTestId('key-state')).toHaveText('active');
    await expect(old.getByTestId('key-last-used')).toContainText('from 127.0.0.1');

    await old.getByText('Roll', { exact: true }).click();
    await old.getByLabel('Old key stays valid for').selectOption('1');
    await old.getByRole('button', { name: `Roll ${name}` }).click();
    const notice = page.getByTestId('new-key');
    await expect(notice).toContainText(`Key “${name}” rolled. Copy it now`);
    await expect(page.getByTestId('rolled-until')).toContainText(`imf_${prefix(first)}_… keeps working until`);
    const second = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
    expect(prefix(second)).not.toBe(prefix(first));
    for (const secret of [first, second]) expect((await use(secret)).status()).toBe(200);

    const rolled = page.locator(`tr[data-prefix="${prefix(first)}"]`);
    await expect(rolled.getByTestId('key-state')).toHaveText('rolled: valid until it expires');
    await expect(rolled.getByText('Roll', { exact: true })).toHaveCount(0);
    const successor = page.locator(`tr[data-prefix="${prefix(second)}"]`);
    await expect(successor.getByTestId('key-networks')).toHaveText('127.0.0.0/8 ::1/128');
    await expect(successor.getByTestId('key-state')).toHaveText('active');
  });

  test('a key outside its networks answers key_address_not_allowed; a bad network is named', async ({ page, js, request, allowConsoleError }) => {
    allowConsoleError(/status of 400 .*\/sfn\/create_key/);
    const name = `office-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await page.goto(`/p/${DEMO}/api-keys`);
    if (js) await waitHydrated(page);
    await page.getByLabel('Name').fill(name);
    await page.getByText('Lifetime and networks (optional)').click();
    await page.getByLabel('Only from these networks').fill('10.0.0.0/8 office.example');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page.locator('[data-field="allowed_ips"]')).toContainText('CIDR notation');

    await page.getByLabel('Name').fill(name);
    const networks = page.getByLabel('Only from these networks');
    if (!(await networks.isVisible())) await page.getByText('Lifetime and networks (optional)').click();
    await networks.fill('10.0.0.0/8');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = ((await page.getByTestId('new-key-secret').textContent()) ?? '').trim();
    const r = await request.get('/api/v1/invalidations', { headers: { 'X-Client-Key': secret } });
    expect(r.status()).toBe(401);
    const body = await r.json();
    expect(body.code).toBe('key_address_not_allowed');
    expect(body.message).toContain('127.0.0.1');
  });
});
