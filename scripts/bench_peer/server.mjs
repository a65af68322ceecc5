// node-oidc-provider 9 configured like the benchmark's seeded provider: one process, every
// model in process memory. Started by scripts/bench_run/peer.py with the path of a JSON config
// it writes (port, issuer, signing keys, clients, the resource server, accounts, ttl).
//
// What is not the library's default, and why:
// - a Map-backed store under the library's own MemoryAdapter: the stock one is an LRU of 1,000
//   entries, which would evict the pre-minted refresh tokens before the rotation run;
// - minimal interaction routes (login with an Argon2id verify, consent) instead of the
//   development ones, so that a scripted HTTP client can sign in as on our hosted pages;
// - POST /bench/refresh-tokens mints live refresh tokens in bulk, each with its own grant, as
//   the harness inserts them into our database (one family each).

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

import argon2 from 'argon2';
import Provider, { errors } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// The store the library's MemoryAdapter expects (get, set with maxAge, delete), without a size
// cap; an expired entry goes when it is next read (a run is shorter than the lifetimes).
class UnboundedStore {
  #entries = new Map();

  get(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, options) {
    const expiresAt = options?.maxAge === undefined ? undefined : Date.now() + options.maxAge;
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key) {
    this.#entries.delete(key);
  }
}

const store = new UnboundedStore();
const accounts = new Map(config.accounts.map((account) => [account.id, account]));
const accountsByEmail = new Map(config.accounts.map((account) => [account.email, account]));
const resourceFor = new Map(Object.entries(config.resource.clients));

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, action, fields) {
  return `<!doctype html><html><head><title>${title}</title></head><body>`
    + `<form method="post" action="${escapeHtml(action)}">${fields}`
    + '<button type="submit">Continue</button></form></body></html>';
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const provider = new Provider(config.issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  ttl: config.ttl,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  routes: config.routes,
  rotateRefreshToken: true,
  clientBasedCORS: () => true,
  findAccount: async (_ctx, id) => {
    const account = accounts.get(id);
    if (account === undefined) return undefined;
    return {
      accountId: id,
      claims: async () => ({
        sub: id,
        email: account.email,
        email_verified: true,
        name: account.name,
      }),
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client, oneOf) => oneOf ?? resourceFor.get(client.clientId),
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== config.resource.indicator) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: config.resource.scope,
          audience: indicator,
          accessTokenTTL: config.ttl.AccessToken,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: config.resource.alg } },
        };
      },
    },
  },
});

async function showInteraction(ctx, uid) {
  const { prompt } = await provider.interactionDetails(ctx.req, ctx.res);
  ctx.type = 'html';
  if (prompt.name === 'login') {
    ctx.body = page('Sign in', `/interaction/${uid}/login`,
      '<input name="email" type="email"><input name="password" type="password">');
  } else {
    ctx.body = page('Consent', `/interaction/${uid}/confirm`, '');
  }
}

async function login(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const form = await readForm(ctx.req);
  const account = accountsByEmail.get(form.get('email') ?? '');
  const valid = details.prompt.name === 'login' && account !== undefined
    && await argon2.verify(account.password_hash, form.get('password') ?? '');
  if (!valid) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = '<p role="alert">Wrong email or password.</p>';
    return;
  }
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: account.id } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
}

async function confirm(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  await readForm(ctx.req);
  const { accountId } = details.session;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
  ctx.respond = false;
}

async function mintRefreshTokens(ctx) {
  const form = await readForm(ctx.req);
  const count = Number.parseInt(form.get('count') ?? '0', 10);
  const { client_id: clientId, scope, account_id: accountId } = config.refresh;
  const client = await provider.Client.find(clientId);
  const authTime = Math.floor(Date.now() / 1000);
  const tokens = [];
  for (let n = 0; n < count; n += 1) {
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId,
      authTime,
      client,
      grantId,
      gty: 'authorization_code',
      scope,
      sessionUid: randomUUID(),
    });
    tokens.push(await token.save());
  }
  ctx.type = 'text';
  ctx.body = tokens.join('\n');
}

const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/;

provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (match && ctx.method === 'GET' && match[2] === undefined) {
    await showInteraction(ctx, match[1]);
  } else if (match && ctx.method === 'POST' && match[2] === 'login') {
    await login(ctx);
  } else if (match && ctx.method === 'POST' && match[2] === 'confirm') {
    await confirm(ctx);
  } else if (ctx.path === '/bench/refresh-tokens' && ctx.method === 'POST') {
    await mintRefreshTokens(ctx);
  } else if (ctx.path === '/health') {
    ctx.body = { status: 'ok' };
  } else {
    await next();
  }
});

provider.listen(config.port, '127.0.0.1');
