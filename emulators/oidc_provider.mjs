// The test identity provider: the certified `oidc-provider` (emulators/oidc/,
// installed by `scripts/tools.sh install_emulators`) on 127.0.0.1, with static
// clients and accounts, signing in whoever `login_hint` names without a form
// so tests need no interaction. Prints `READY <port>` first, like the Python
// emulators (server/tests/common/emulators.rs).
//
//   node emulators/oidc_provider.mjs [--port 0] [--redirect-uri URL]... [--default-login EMAIL]
//
// Clients (secret `imgflush-secret` each), every one requiring PKCE:
// - `imgflush`: the console's client.
// - `imgflush-quick`: ID tokens live 1 s and the token response is held 2 s
//   after they are minted, so they arrive expired (like a slow network).
// - `imgflush-alias`: a misconfigured alias answering with `imgflush`'s
//   registration, so its ID tokens are for another audience (`imgflush`).
//
// Accounts: `login_hint` (else `--default-login`, for a browser following
// a plain "Sign in with" link) is the e-mail. It is verified unless the local part
// starts with `unverified`; groups come from GROUPS below.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

const require = createRequire(new URL('./oidc/package.json', import.meta.url));
const { default: Provider } = await import(require.resolve('oidc-provider'));
const { default: MemoryAdapter } = await import(
  require.resolve('oidc-provider').replace(/lib[/\\]index\.js$/, 'lib/adapters/memory_adapter.js')
);

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'default-login': { type: 'string' },
  },
});

const GROUPS = {
  'alice@example.com': ['imgflush-editors', 'unrelated'],
  'gail@example.com': ['imgflush-admins', 'imgflush-editors'],
};

const SECRET = 'imgflush-secret';
const redirectUris = ['http://localhost/login/sso/callback', ...values['redirect-uri']];
const client = (id) => ({
  client_id: id,
  client_secret: SECRET,
  redirect_uris: redirectUris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

/** Answers for `imgflush-alias` with `imgflush`'s registration. */
class AliasingAdapter extends MemoryAdapter {
  async find(id) {
    if (this.model === 'Client' && id === 'imgflush-alias') return client('imgflush');
    return super.find(id);
  }
}

// Bind first: the issuer names the port.
const server = createServer();
await new Promise((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  adapter: AliasingAdapter,
  // A fresh signing key per run: nothing signed by one run verifies in another.
  jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), use: 'sig' }] },
  clients: [client('imgflush'), client('imgflush-quick')],
  cookies: { keys: ['imgflush-test-provider-cookie-key'] },
  pkce: { required: () => true },
  // The scope claims in the ID token itself (the console reads no userinfo).
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups'],
  features: { devInteractions: { enabled: false } },
  ttl: {
    IdToken: (_ctx, _token, c) => (c?.clientId === 'imgflush-quick' ? 1 : 3600),
    Interaction: 600,
    Grant: 3600,
    Session: 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'text';
    ctx.body = `${out.error}: ${out.error_description}`;
  },
  async findAccount(_ctx, id) {
    const local = id.split('@')[0];
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !local.startsWith('unverified'), groups: GROUPS[id] ?? [] };
      },
    };
  },
  // First-party clients: consent is implied.
  async loadExistingGrant(ctx) {
    const { client: c, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(c.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: c.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email groups');
    // Kept under the registration's own id too, for the alias (the session
    // files grants by the requested client_id, the code by the client's).
    session.grantIdFor(c.clientId, await grant.save());
    return grant;
  },
});

provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
provider.on('grant.error', (_ctx, err) => console.error('grant.error', err.error_detail));

// The login "form": whoever login_hint names signs in at once.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const hint = details.params.login_hint ?? values['default-login'];
    if (details.prompt.name !== 'login' || typeof hint !== 'string' || !hint.includes('@')) {
      ctx.status = 400;
      ctx.body = `no automatic answer for prompt ${details.prompt.name} (login_hint ${hint})`;
      return;
    }
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: hint } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.oidc?.client?.clientId === 'imgflush-quick') {
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
});

server.on('request', provider.callback());
console.log(`READY ${port}`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
