import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, operatorUrls, redactConfig } from './config.ts';

function failsOn(env: Record<string, string>, variable: string) {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.startsWith(`${variable}: `),
  );
}

describe('config', () => {
  it('has working defaults for a local start', () => {
    const config = loadConfig({});
    assert.equal(config.service.hostname, 'localhost');
    assert.equal(config.service.port, 2583);
    assert.equal(config.service.bindHost, '127.0.0.1');
    assert.equal(config.service.did, 'did:web:localhost');
    assert.deepEqual(config.service.handleDomains, ['.test']);
    assert.match(config.storage.dataDir, /\/data$/);
    assert.equal(config.service.inviteRequired, false);
  });

  it('gives localhost the built-in PLC directory one port below the PDS unless a directory is configured', () => {
    const local = loadConfig({});
    assert.deepEqual(local.identity.localPlc, { port: 2582 });
    assert.equal(local.identity.plcUrl, 'http://localhost:2582');
    assert.deepEqual(loadConfig({ PDS_PORT: '0' }).identity.localPlc, { port: 0 });
    assert.deepEqual(loadConfig({ PDS_LOCAL_PLC_PORT: '9000' }).identity.localPlc, { port: 9000 });
    const configured = loadConfig({ PDS_DID_PLC_URL: 'http://127.0.0.1:2999' });
    assert.equal(configured.identity.localPlc, undefined);
    assert.equal(configured.identity.plcUrl, 'http://127.0.0.1:2999');
  });

  it('never gives a public hostname the built-in PLC directory', () => {
    const config = loadConfig({ PDS_HOSTNAME: 'pds.example.com' });
    assert.equal(config.identity.localPlc, undefined);
    assert.equal(config.identity.plcUrl, 'https://plc.directory');
    failsOn({ PDS_HOSTNAME: 'pds.example.com', PDS_LOCAL_PLC_PORT: '2582' }, 'PDS_LOCAL_PLC_PORT');
    failsOn({ PDS_LOCAL_PLC_PORT: '2583' }, 'PDS_LOCAL_PLC_PORT');
  });

  it('reads the official PDS variable names', () => {
    const config = loadConfig({
      PDS_HOSTNAME: 'pds.example.com',
      PDS_PORT: '3000',
      PDS_DATA_DIRECTORY: '/var/pds',
      PDS_BLOBSTORE_DISK_LOCATION: '/var/pds/blocks',
      PDS_DID_PLC_URL: 'https://plc.example.com/',
      PDS_SERVICE_HANDLE_DOMAINS: '.example.com, .example.org',
      PDS_INVITE_REQUIRED: 'true',
      PDS_CRAWLERS: 'https://bsky.network',
      PDS_JWT_SECRET: '0123456789abcdef0123',
      PDS_ADMIN_PASSWORD: 'hunter22-hunter22',
    });
    assert.equal(config.service.publicUrl, 'https://pds.example.com');
    assert.equal(config.service.bindHost, '0.0.0.0');
    assert.equal(config.storage.blobDir, '/var/pds/blocks');
    assert.equal(config.storage.dbFile, '/var/pds/squall.sqlite');
    assert.equal(config.identity.plcUrl, 'https://plc.example.com');
    assert.deepEqual(config.service.handleDomains, ['.example.com', '.example.org']);
    assert.equal(config.service.inviteRequired, true);
    assert.deepEqual(config.crawlers, ['https://bsky.network']);
  });

  it('stops at a bad value with one line naming the variable', () => {
    failsOn({ PDS_PORT: 'eighty' }, 'PDS_PORT');
    failsOn({ PDS_PORT: '70000' }, 'PDS_PORT');
    failsOn({ PDS_HOSTNAME: 'https://pds.example.com' }, 'PDS_HOSTNAME');
    failsOn({ PDS_INVITE_REQUIRED: 'maybe' }, 'PDS_INVITE_REQUIRED');
    failsOn({ PDS_JWT_SECRET: 'short' }, 'PDS_JWT_SECRET');
    failsOn({ PDS_ADMIN_PASSWORD: 'hunter22' }, 'PDS_ADMIN_PASSWORD');
    failsOn({ PDS_ADMIN_PASSWORD: '0123456789abcde' }, 'PDS_ADMIN_PASSWORD');
    failsOn({ PDS_DID_PLC_URL: 'not a url' }, 'PDS_DID_PLC_URL');
    failsOn({ PDS_SERVICE_HANDLE_DOMAINS: 'example.com' }, 'PDS_SERVICE_HANDLE_DOMAINS');
    failsOn({ PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: 'xyz' }, 'PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX');
    failsOn({ PDS_BLOB_UPLOAD_LIMIT: '-5' }, 'PDS_BLOB_UPLOAD_LIMIT');
    failsOn({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    failsOn({ PDS_REPO_SIGNING_KEY_ALG: 'RS256' }, 'PDS_REPO_SIGNING_KEY_ALG');
  });

  it('redacts secrets and SMTP passwords', () => {
    const config = loadConfig({ PDS_ADMIN_PASSWORD: 'hunter22-hunter22', PDS_EMAIL_SMTP_URL: 'smtp://user:s3cret@mail.example.com:587' });
    const text = JSON.stringify(redactConfig(config));
    assert.doesNotMatch(text, /hunter22|s3cret/);
  });

  it('routes a public PDS to the services the official distribution configures, and a local one nowhere', () => {
    const public_ = loadConfig({ PDS_HOSTNAME: 'pds.example.com' }).services;
    assert.deepEqual(public_.appView, { url: 'https://api.bsky.app', did: 'did:web:api.bsky.app' });
    assert.deepEqual(public_.report, { url: 'https://mod.bsky.app', did: 'did:plc:ar7c4by46qjdydhdevvrndac' });
    assert.equal(public_.chat, undefined);
    assert.equal(public_.mod, undefined);
    for (const hostname of ['localhost', 'pds.test']) {
      const local = loadConfig({ PDS_HOSTNAME: hostname }).services;
      assert.deepEqual(local, { appView: undefined, chat: undefined, report: undefined, mod: undefined }, hostname);
    }
  });

  it('reads each service as a URL and DID pair, sends reports to the moderation service by default, and lets an empty URL turn a default off', () => {
    const { services, proxy } = loadConfig({
      PDS_HOSTNAME: 'pds.example.com',
      PDS_BSKY_APP_VIEW_URL: 'http://10.0.0.5:3000/',
      PDS_BSKY_APP_VIEW_DID: 'did:web:appview.internal',
      PDS_BSKY_CHAT_URL: 'https://chat.example.com',
      PDS_BSKY_CHAT_DID: 'did:web:chat.example.com',
      PDS_MOD_SERVICE_URL: 'https://ozone.example.com',
      PDS_MOD_SERVICE_DID: 'did:plc:ozoneozoneozoneozoneozon',
      PDS_PROXY_HEADERS_TIMEOUT: '2000',
    });
    assert.deepEqual(services.appView, { url: 'http://10.0.0.5:3000', did: 'did:web:appview.internal' });
    assert.deepEqual(services.chat, { url: 'https://chat.example.com', did: 'did:web:chat.example.com' });
    assert.deepEqual(services.report, services.mod);
    assert.deepEqual(proxy, { headersTimeoutMs: 2000, bodyTimeoutMs: 30_000, maxResponseBytes: 10 * 1024 * 1024 });
    const off = loadConfig({ PDS_HOSTNAME: 'pds.example.com', PDS_BSKY_APP_VIEW_URL: '', PDS_REPORT_SERVICE_URL: '' }).services;
    assert.equal(off.appView, undefined);
    assert.equal(off.report, undefined);
  });

  it('refuses half a service, a URL that is not one, and a DID that is not one', () => {
    failsOn({ PDS_BSKY_APP_VIEW_URL: 'https://appview.example.com' }, 'PDS_BSKY_APP_VIEW_DID');
    failsOn({ PDS_BSKY_CHAT_DID: 'did:web:chat.example.com' }, 'PDS_BSKY_CHAT_URL');
    failsOn({ PDS_REPORT_SERVICE_URL: 'mod.example.com', PDS_REPORT_SERVICE_DID: 'did:web:mod.example.com' }, 'PDS_REPORT_SERVICE_URL');
    failsOn({ PDS_REPORT_SERVICE_URL: 'https://mod.example.com?x=1', PDS_REPORT_SERVICE_DID: 'did:web:mod.example.com' }, 'PDS_REPORT_SERVICE_URL');
    failsOn({ PDS_MOD_SERVICE_URL: 'https://mod.example.com', PDS_MOD_SERVICE_DID: 'mod.example.com' }, 'PDS_MOD_SERVICE_DID');
    failsOn({ PDS_MOD_SERVICE_URL: 'https://mod.example.com', PDS_MOD_SERVICE_DID: 'did:web:mod.example.com#atproto_labeler' }, 'PDS_MOD_SERVICE_DID');
    failsOn({ PDS_PROXY_BODY_TIMEOUT: 'soon' }, 'PDS_PROXY_BODY_TIMEOUT');
  });

  it('reads the metrics settings and refuses a listen address that is not host:port', () => {
    assert.deepEqual(loadConfig({}).metrics, { enabled: true, listen: undefined });
    assert.deepEqual(loadConfig({ PDS_METRICS_LISTEN: '127.0.0.1:9464' }).metrics.listen, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(loadConfig({ PDS_METRICS_LISTEN: '[::1]:9464' }).metrics.listen, { host: '::1', port: 9464 });
    assert.equal(loadConfig({ PDS_METRICS_ENABLED: 'false' }).metrics.enabled, false);
    failsOn({ PDS_METRICS_LISTEN: '9464' }, 'PDS_METRICS_LISTEN');
    failsOn({ PDS_METRICS_LISTEN: 'http://127.0.0.1:9464' }, 'PDS_METRICS_LISTEN');
    failsOn({ PDS_METRICS_LISTEN: '127.0.0.1:99999' }, 'PDS_METRICS_LISTEN');
    failsOn({ PDS_METRICS_ENABLED: 'maybe' }, 'PDS_METRICS_ENABLED');
  });

  it('reads scheduled backups (off by default) and refuses a bad interval, count or place', () => {
    assert.equal(loadConfig({}).backup, undefined);
    assert.deepEqual(loadConfig({ PDS_BACKUP_DIRECTORY: '/backups/squall' }).backup, { dir: '/backups/squall', intervalMs: 86_400_000, keep: 7 });
    assert.deepEqual(loadConfig({ PDS_BACKUP_DIRECTORY: '/b', PDS_BACKUP_INTERVAL: '6h', PDS_BACKUP_KEEP: '3' }).backup, { dir: '/b', intervalMs: 6 * 3_600_000, keep: 3 });
    assert.equal(loadConfig({ PDS_BACKUP_DIRECTORY: '/b', PDS_BACKUP_INTERVAL: '30m' }).backup?.intervalMs, 1_800_000);
    failsOn({ PDS_BACKUP_DIRECTORY: '/b', PDS_BACKUP_INTERVAL: 'daily' }, 'PDS_BACKUP_INTERVAL');
    failsOn({ PDS_BACKUP_DIRECTORY: '/b', PDS_BACKUP_INTERVAL: '10s' }, 'PDS_BACKUP_INTERVAL');
    failsOn({ PDS_BACKUP_DIRECTORY: '/b', PDS_BACKUP_KEEP: '0' }, 'PDS_BACKUP_KEEP');
    failsOn({ PDS_BACKUP_INTERVAL: '6h' }, 'PDS_BACKUP_INTERVAL');
    failsOn({ PDS_DATA_DIRECTORY: '/srv/pds', PDS_BACKUP_DIRECTORY: '/srv/pds/blobs/backups' }, 'PDS_BACKUP_DIRECTORY');
  });

  it('keeps SSRF protection on unless development asks it off, and names every configured URL as trusted', () => {
    assert.equal(loadConfig({}).net.disableSsrfProtection, false);
    assert.equal(loadConfig({ PDS_DISABLE_SSRF_PROTECTION: 'true' }).net.disableSsrfProtection, true);
    failsOn({ PDS_DISABLE_SSRF_PROTECTION: 'maybe' }, 'PDS_DISABLE_SSRF_PROTECTION');
    const config = loadConfig({
      PDS_DID_PLC_URL: 'http://127.0.0.1:2582',
      PDS_CRAWLERS: 'http://10.0.0.5:2470, https://bsky.network',
      PDS_BSKY_APP_VIEW_URL: 'http://appview.internal:3000',
      PDS_BSKY_APP_VIEW_DID: 'did:web:appview.internal',
    });
    assert.deepEqual(operatorUrls(config), ['http://127.0.0.1:2582', 'http://10.0.0.5:2470', 'https://bsky.network', 'http://appview.internal:3000']);
    failsOn({ PDS_CRAWLERS: 'smtp://relay.example.com' }, 'PDS_CRAWLERS');
  });

  it('takes each URL only in the schemes it is used with: mail over smtp(s), everything else over http(s)', () => {
    const base = { PDS_HOSTNAME: 'pds.example.com' };
    for (const [variable, url] of [
      ['PDS_PUBLIC_URL', 'smtp://pds.example.com/'],
      ['PDS_PRIVACY_POLICY_URL', 'smtp://pds.example.com/privacy'],
      ['PDS_TERMS_OF_SERVICE_URL', 'ftp://pds.example.com/tos'],
      ['PDS_TERMS_OF_SERVICE_URL', 'javascript:alert(1)'],
      ['PDS_DID_PLC_URL', 'smtps://plc.example.com'],
      ['PDS_EMAIL_SMTP_URL', 'https://mail.example.com'],
    ]) {
      failsOn({ ...base, [variable]: url }, variable);
    }
    assert.throws(() => loadConfig({ ...base, PDS_EMAIL_SMTP_URL: 'http://mail.example.com' }), /PDS_EMAIL_SMTP_URL: "http:\/\/mail\.example\.com" must be an smtp\(s\) URL/);
    assert.throws(() => loadConfig({ ...base, PDS_PUBLIC_URL: 'smtp://pds.example.com/' }), /PDS_PUBLIC_URL: "smtp:\/\/pds\.example\.com\/" must be an http\(s\) URL/);
    const config = loadConfig({ ...base, PDS_EMAIL_SMTP_URL: 'smtps://mail.example.com:465', PDS_PRIVACY_POLICY_URL: 'https://pds.example.com/privacy' });
    assert.equal(config.email.smtpUrl, 'smtps://mail.example.com:465');
    assert.equal(config.service.privacyPolicyUrl, 'https://pds.example.com/privacy');
  });

  it('takes the retired PDS_ALLOW_PRIVATE_NETWORK=true as a note for the boot log, not as a way to open user-controlled fetches', () => {
    const config = loadConfig({ PDS_ALLOW_PRIVATE_NETWORK: 'true' });
    assert.equal(config.net.retiredAllowPrivateNetwork, true);
    assert.equal(config.net.disableSsrfProtection, false);
    assert.equal(loadConfig({}).net.retiredAllowPrivateNetwork, false);
  });
});
