// An independent OpenID Connect provider (node-oidc-provider) for bm's interop suite.
//
// bm speaks to WorkOS AuthKit in production and to our own emulator in most tests; both were
// read by the people who wrote bm. This server was written by someone else, to the RFCs, so it
// catches the places where bm only agrees with itself. It serves bm's endpoint layout
// ({cloud_domain}/oauth2/device_authorization, /oauth2/token, /oauth2/revoke) and behaves like
// a standard provider that is *not* AuthKit: opaque access tokens, the identity only in the
// id_token, no `user` object, no `interval` in the device authorization answer.
//
// Usage: node server.mjs [--port N] [--client-id ID] [--access-token-ttl S]
// Listens on 127.0.0.1 only and prints one line, `listening <base url>`, on stdout once ready.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: options } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string', default: 'bm-interop-cli' },
    'access-token-ttl': { type: 'string', default: '30' },
  },
});

// The login page of the provider's development interactions accepts any login name; the name
// becomes the subject. The email is derived from it, so a test can tell the two claims apart.
const EMAIL_DOMAIN = 'interop.example';

function account(accountId) {
  return {
    accountId,
    async claims() {
      return {
        sub: accountId,
        email: `${accountId}@${EMAIL_DOMAIN}`,
        email_verified: true,
        name: accountId,
      };
    },
  };
}

// A fresh signing key per run: nothing this server signs outlives the test session, and the
// library's built-in development keys would be the same for every user of the library.
function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' }] };
}

function configuration(clientId, accessTokenTtl) {
  return {
    clients: [
      {
        client_id: clientId,
        client_name: 'bm interop suite',
        // A public client, like the CLI registered with AuthKit: no secret to keep.
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    // bm builds every URL from {cloud_domain}/oauth2/...; the library's own defaults differ.
    routes: {
      device_authorization: '/oauth2/device_authorization',
      token: '/oauth2/token',
      revocation: '/oauth2/revoke',
      code_verification: '/oauth2/device',
      userinfo: '/oauth2/userinfo',
      jwks: '/oauth2/jwks',
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // With the default (true) the scope's claims go only to the userinfo endpoint when an
    // access token is issued; many providers (Google, Keycloak, Auth0) also put them in the
    // id_token, which is the case bm reads.
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => account(sub),
    features: {
      // The provider's own HTML pages for login and consent (no JavaScript needed).
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      // RFC 7009; the library refuses to revoke another client's token.
      revocation: { enabled: true },
    },
    // Refresh tokens are single-use: every refresh answers with a new one, and presenting a
    // used one is refused with invalid_grant (and ends the grant).
    rotateRefreshToken: true,
    ttl: {
      // Shorter than bm's 60 s leeway: any command after login has to refresh first.
      AccessToken: accessTokenTtl,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Interaction: 600,
      Session: 3600,
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: signingKeys(),
  };
}

function main() {
  const accessTokenTtl = Number.parseInt(options['access-token-ttl'], 10);
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  // The issuer must name the port, which is known only once the socket is bound.
  const server = createServer((req, res) => handler(req, res));
  server.listen(Number.parseInt(options.port, 10), '127.0.0.1', () => {
    const { port } = server.address();
    const issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, configuration(options['client-id'], accessTokenTtl));
    provider.on('server_error', (_ctx, error) => console.error('server_error', error));
    handler = provider.callback();
    console.log(`listening ${issuer}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
