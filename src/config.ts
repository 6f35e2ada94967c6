import { isAbsolute, resolve } from 'node:path';
import { isValidDid } from './syntax/index.ts';
import { STREAM_LIMIT_DEFAULTS } from './xrpc/stream-limits.ts';

/**
 * The one place that reads the environment. Variable names follow the official PDS (`pds.env`)
 * so an operator can point Squall at an existing file; Squall's own additions are marked below.
 */
export interface Config {
  version: string;
  service: {
    hostname: string;
    port: number;
    /** Squall: interface to listen on (PDS_BIND_HOST). */
    bindHost: string;
    publicUrl: string;
    did: string;
    devMode: boolean;
    handleDomains: string[];
    inviteRequired: boolean;
    contactEmail?: string;
    privacyPolicyUrl?: string;
    termsOfServiceUrl?: string;
    blobUploadLimit: number;
    /** Squall: largest JSON body accepted by procedures that set no limit of their own. */
    jsonBodyLimit: number;
    /** Squall: curve of new accounts' repo signing keys (PDS_REPO_SIGNING_KEY_ALG). */
    signingKeyAlg: 'ES256K' | 'ES256';
    /** Whether `importRepo` is open (PDS_ACCEPTING_REPO_IMPORTS). */
    acceptingRepoImports: boolean;
    /** Largest repo CAR `importRepo` reads, bytes (PDS_MAX_REPO_IMPORT_SIZE). */
    maxRepoImportSize: number;
  };
  storage: {
    dataDir: string;
    dbFile: string;
    blobDir: string;
    blobTmpDir: string;
  };
  secrets: {
    adminPassword?: string;
    jwtSecret?: string;
    plcRotationKeyHex?: string;
  };
  identity: {
    /** Operator-configured, so trusted: may be on loopback or a private network. */
    plcUrl: string;
    /**
     * Squall: the built-in PLC directory of a local playground, served on its own port. Only on
     * `localhost` with PDS_DID_PLC_URL unset; a public hostname always uses a real directory.
     */
    localPlc?: { port: number };
  };
  /** Outbound requests (src/net). */
  net: {
    /**
     * Development only (PDS_DISABLE_SSRF_PROTECTION, as the official PDS names it): URLs that users
     * and DID documents control may reach loopback and private addresses. Operator-configured URLs
     * never need it.
     */
    disableSsrfProtection: boolean;
    /**
     * PDS_ALLOW_PRIVATE_NETWORK=true was set. Retired: it opened every outbound fetch; now it opens
     * nothing (configured URLs need nothing) and the boot log says so.
     */
    retiredAllowPrivateNetwork: boolean;
  };
  crawlers: string[];
  /**
   * The services requests are forwarded to when they carry no `atproto-proxy` header (see
   * src/proxy/). Operator-configured, so trusted: their URLs may be on loopback or a private network.
   */
  services: {
    /** app.bsky.* (PDS_BSKY_APP_VIEW_URL / _DID). */
    appView?: ConfiguredService;
    /** chat.bsky.* (PDS_BSKY_CHAT_URL / _DID; Squall: the official PDS has no default chat route). */
    chat?: ConfiguredService;
    /** com.atproto.moderation.createReport (PDS_REPORT_SERVICE_URL / _DID; default: the moderation service). */
    report?: ConfiguredService;
    /** tools.ozone.* (PDS_MOD_SERVICE_URL / _DID). */
    mod?: ConfiguredService;
  };
  /** Limits of forwarded requests, with the official PDS's names and defaults. */
  proxy: {
    /** From sending the request to the upstream's response headers (PDS_PROXY_HEADERS_TIMEOUT, ms). */
    headersTimeoutMs: number;
    /** Longest silence while a body streams either way (PDS_PROXY_BODY_TIMEOUT, ms). */
    bodyTimeoutMs: number;
    /** Largest upstream answer passed on (PDS_PROXY_MAX_RESPONSE_SIZE, bytes). */
    maxResponseBytes: number;
  };
  /** Squall: how long firehose events are kept for cursor replay (PDS_SEQUENCER_RETENTION_HOURS). */
  sequencerRetentionHours: number;
  /** Squall: streamed answers (repo exports, blob downloads): caps and time limits. */
  streams: {
    /** Longest time a stream may go without the client taking a chunk (PDS_STREAM_IDLE_TIMEOUT, ms). */
    idleTimeoutMs: number;
    /** Longest a stream may run (PDS_STREAM_MAX_DURATION, ms). */
    maxDurationMs: number;
    /** Streams at once, all clients (PDS_STREAM_MAX_CONCURRENT). */
    maxConcurrent: number;
    /** Streams at once per client, an IPv4 address or IPv6 /64 (PDS_STREAM_MAX_CONCURRENT_PER_CLIENT). */
    maxConcurrentPerClient: number;
  };
  /** Squall: firehose (subscribeRepos) subscribers. */
  firehose: {
    /** Subscribers at once, all clients (PDS_FIREHOSE_MAX_SUBSCRIBERS). */
    maxSubscribers: number;
    /** Subscribers at once per client, an IPv4 address or IPv6 /64 (PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_CLIENT). */
    maxSubscribersPerClient: number;
  };
  email: {
    smtpUrl?: string;
    fromAddress?: string;
  };
  rateLimits: {
    enabled: boolean;
    /** Squall: peers whose X-Forwarded-For is trusted for the client IP (PDS_TRUSTED_PROXIES). */
    trustedProxies: string[];
  };
  oauth: {
    /** Squall: client ids whose name and logo the pages show as verified (PDS_OAUTH_TRUSTED_CLIENTS). */
    trustedClients: string[];
  };
  log: {
    level: string;
  };
  /** Squall: scheduled backups (PDS_BACKUP_*); off unless a directory is set. */
  backup?: {
    dir: string;
    intervalMs: number;
    /** Complete backups kept in `dir`; older ones are deleted after each new one. */
    keep: number;
  };
  /** Squall: Prometheus metrics (PDS_METRICS_*). */
  metrics: {
    enabled: boolean;
    /** A separate listener for GET /metrics without credentials; when unset, /metrics is on the main port behind the admin credential. */
    listen?: { host: string; port: number };
  };
  /** Squall: validate every answer against its Lexicon and refuse undeclared errors (tests and dev). */
  strictXrpc: boolean;
}

/** A service the operator named: where it is and the DID its service-auth tokens are addressed to. */
export interface ConfiguredService {
  url: string;
  did: string;
}

/**
 * What the official PDS distribution writes into every new `pds.env`: the public Bluesky AppView
 * and moderation service. They apply to a PDS with a public hostname; a `localhost` or `*.test`
 * PDS (tests, playgrounds) has no default route, so nothing it does reaches the public network
 * unless the operator names a service.
 */
const PUBLIC_DEFAULTS = {
  appView: { url: 'https://api.bsky.app', did: 'did:web:api.bsky.app' },
  report: { url: 'https://mod.bsky.app', did: 'did:plc:ar7c4by46qjdydhdevvrndac' },
} as const;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Record<string, string | undefined>;

/**
 * The admin password opens every account's administration: long enough that guessing is hopeless
 * even before throttling (the generated one has 24 characters, 144 random bits).
 */
export const MIN_ADMIN_PASSWORD_LENGTH = 16;

/** The key that signs every session token (HMAC): at least 128 bits as hex. */
export const MIN_JWT_SECRET_LENGTH = 16;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function loadConfig(env: Env = process.env, version = '0.1.0'): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const hostname = parseHostname(read('PDS_HOSTNAME') ?? 'localhost');
  const port = parsePort('PDS_PORT', read('PDS_PORT') ?? '2583');
  const bindHost = read('PDS_BIND_HOST') ?? (hostname === 'localhost' ? '127.0.0.1' : '0.0.0.0');
  const devMode = parseBool('PDS_DEV_MODE', read('PDS_DEV_MODE'), false);
  const isLocal = hostname === 'localhost' || hostname.endsWith('.test');
  const publicUrl = read('PDS_PUBLIC_URL') ?? (isLocal ? `http://${hostname}:${port}` : `https://${hostname}`);
  const publicOrigin = parseUrl('PDS_PUBLIC_URL', publicUrl);
  if (publicOrigin.pathname !== '/' || publicOrigin.search || publicOrigin.hash || publicOrigin.username || publicOrigin.password) {
    throw new ConfigError('PDS_PUBLIC_URL', `"${publicUrl}" must be an origin only (scheme, host and port, no path): it is the OAuth issuer`);
  }
  const dataDir = absolute(read('PDS_DATA_DIRECTORY') ?? './data');
  const blobDir = absolute(read('PDS_BLOBSTORE_DISK_LOCATION') ?? resolve(dataDir, 'blobs'));
  const handleDomains = parseList(read('PDS_SERVICE_HANDLE_DOMAINS')) ?? [hostname === 'localhost' ? '.test' : `.${hostname}`];
  for (const domain of handleDomains) {
    if (!/^\.[a-z0-9.-]+$/i.test(domain) || domain.includes('..')) {
      throw new ConfigError('PDS_SERVICE_HANDLE_DOMAINS', `"${domain}" must be a domain starting with a dot, like .example.com`);
    }
  }
  const jwtSecret = read('PDS_JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError('PDS_JWT_SECRET', `must be at least ${MIN_JWT_SECRET_LENGTH} characters (use \`openssl rand --hex 16\`)`);
  }
  const adminPassword = read('PDS_ADMIN_PASSWORD');
  if (adminPassword !== undefined && adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigError('PDS_ADMIN_PASSWORD', `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters (use \`openssl rand -base64 18\`, or leave it unset to have one generated)`);
  }
  const rotationKey = read('PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX');
  if (rotationKey !== undefined && !/^[0-9a-f]{64}$/i.test(rotationKey)) {
    throw new ConfigError('PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX', 'must be 64 hexadecimal characters (a secp256k1 private key)');
  }
  const logLevel = (read('LOG_LEVEL') ?? read('PDS_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const crawlers = parseList(read('PDS_CRAWLERS')) ?? [];
  crawlers.forEach((url) => parseUrl('PDS_CRAWLERS', url));
  const configuredPlcUrl = read('PDS_DID_PLC_URL');
  const localPlcPortValue = read('PDS_LOCAL_PLC_PORT');
  if (localPlcPortValue !== undefined && (hostname !== 'localhost' || configuredPlcUrl !== undefined)) {
    throw new ConfigError('PDS_LOCAL_PLC_PORT', 'the built-in PLC directory only runs on PDS_HOSTNAME=localhost without PDS_DID_PLC_URL');
  }
  // One below the PDS (2582 beside 2583, as in the atproto dev environment); with PDS_PORT=0, a free one.
  const localPlc = hostname === 'localhost' && configuredPlcUrl === undefined ? { port: parsePort('PDS_LOCAL_PLC_PORT', localPlcPortValue ?? String(Math.max(0, port - 1))) } : undefined;
  if (localPlc && localPlc.port !== 0 && localPlc.port === port) throw new ConfigError('PDS_LOCAL_PLC_PORT', `must differ from PDS_PORT (${port})`);
  const plcUrl = configuredPlcUrl ?? (localPlc ? `http://localhost:${localPlc.port}` : 'https://plc.directory');
  parseUrl('PDS_DID_PLC_URL', plcUrl);
  const trustedClients = parseList(read('PDS_OAUTH_TRUSTED_CLIENTS')) ?? [];
  for (const clientId of trustedClients) {
    const url = parseUrl('PDS_OAUTH_TRUSTED_CLIENTS', clientId);
    if (url.protocol !== 'https:') throw new ConfigError('PDS_OAUTH_TRUSTED_CLIENTS', `"${clientId}" must be an https client_id URL`);
  }
  const smtpUrl = read('PDS_EMAIL_SMTP_URL');
  if (smtpUrl) parseUrl('PDS_EMAIL_SMTP_URL', smtpUrl, SMTP_SCHEMES);
  const privacyPolicyUrl = read('PDS_PRIVACY_POLICY_URL');
  if (privacyPolicyUrl) parseUrl('PDS_PRIVACY_POLICY_URL', privacyPolicyUrl);
  const termsOfServiceUrl = read('PDS_TERMS_OF_SERVICE_URL');
  if (termsOfServiceUrl) parseUrl('PDS_TERMS_OF_SERVICE_URL', termsOfServiceUrl);
  const service = (prefix: string, fallback?: ConfiguredService) => parseService(env, read, prefix, fallback);
  const publicDefault = <T>(value: T) => (isLocal ? undefined : value);
  const mod = service('PDS_MOD_SERVICE');
  const services: Config['services'] = {
    appView: service('PDS_BSKY_APP_VIEW', publicDefault(PUBLIC_DEFAULTS.appView)),
    chat: service('PDS_BSKY_CHAT'),
    // As in the official PDS, reports go to the moderation service when no report service is named.
    report: service('PDS_REPORT_SERVICE', mod ?? publicDefault(PUBLIC_DEFAULTS.report)),
    mod,
  };

  return {
    version,
    service: {
      hostname,
      port,
      bindHost,
      publicUrl: publicUrl.replace(/\/+$/, ''),
      did: read('PDS_SERVICE_DID') ?? `did:web:${hostname}`,
      devMode,
      handleDomains: handleDomains.map((d) => d.toLowerCase()),
      inviteRequired: parseBool('PDS_INVITE_REQUIRED', read('PDS_INVITE_REQUIRED'), false),
      contactEmail: read('PDS_CONTACT_EMAIL_ADDRESS'),
      privacyPolicyUrl,
      termsOfServiceUrl,
      blobUploadLimit: parseInteger('PDS_BLOB_UPLOAD_LIMIT', read('PDS_BLOB_UPLOAD_LIMIT'), 100 * 1024 * 1024, 1),
      jsonBodyLimit: parseInteger('PDS_JSON_BODY_LIMIT', read('PDS_JSON_BODY_LIMIT'), 1024 * 1024, 1024),
      signingKeyAlg: parseSigningAlg(read('PDS_REPO_SIGNING_KEY_ALG')),
      acceptingRepoImports: parseBool('PDS_ACCEPTING_REPO_IMPORTS', read('PDS_ACCEPTING_REPO_IMPORTS'), true),
      maxRepoImportSize: parseInteger('PDS_MAX_REPO_IMPORT_SIZE', read('PDS_MAX_REPO_IMPORT_SIZE'), 1024 * 1024 * 1024, 1024),
    },
    storage: {
      dataDir,
      dbFile: absolute(read('PDS_SQLITE_LOCATION') ?? resolve(dataDir, 'squall.sqlite')),
      blobDir,
      blobTmpDir: absolute(read('PDS_BLOBSTORE_DISK_TMP_LOCATION') ?? resolve(dataDir, 'tmp')),
    },
    secrets: {
      adminPassword,
      jwtSecret,
      plcRotationKeyHex: rotationKey?.toLowerCase(),
    },
    identity: {
      plcUrl: plcUrl.replace(/\/+$/, ''),
      ...(localPlc ? { localPlc } : {}),
    },
    net: {
      disableSsrfProtection: parseBool('PDS_DISABLE_SSRF_PROTECTION', read('PDS_DISABLE_SSRF_PROTECTION'), false),
      retiredAllowPrivateNetwork: parseBool('PDS_ALLOW_PRIVATE_NETWORK', read('PDS_ALLOW_PRIVATE_NETWORK'), false),
    },
    crawlers,
    services,
    proxy: {
      headersTimeoutMs: parseInteger('PDS_PROXY_HEADERS_TIMEOUT', read('PDS_PROXY_HEADERS_TIMEOUT'), 10_000, 1),
      bodyTimeoutMs: parseInteger('PDS_PROXY_BODY_TIMEOUT', read('PDS_PROXY_BODY_TIMEOUT'), 30_000, 1),
      maxResponseBytes: parseInteger('PDS_PROXY_MAX_RESPONSE_SIZE', read('PDS_PROXY_MAX_RESPONSE_SIZE'), 10 * 1024 * 1024, 1024),
    },
    sequencerRetentionHours: parseInteger('PDS_SEQUENCER_RETENTION_HOURS', read('PDS_SEQUENCER_RETENTION_HOURS'), 72, 1),
    streams: {
      idleTimeoutMs: parseInteger('PDS_STREAM_IDLE_TIMEOUT', read('PDS_STREAM_IDLE_TIMEOUT'), STREAM_LIMIT_DEFAULTS.idleTimeoutMs, 1),
      maxDurationMs: parseInteger('PDS_STREAM_MAX_DURATION', read('PDS_STREAM_MAX_DURATION'), STREAM_LIMIT_DEFAULTS.maxDurationMs, 1),
      maxConcurrent: parseInteger('PDS_STREAM_MAX_CONCURRENT', read('PDS_STREAM_MAX_CONCURRENT'), STREAM_LIMIT_DEFAULTS.maxConcurrent, 1),
      maxConcurrentPerClient: parseInteger('PDS_STREAM_MAX_CONCURRENT_PER_CLIENT', read('PDS_STREAM_MAX_CONCURRENT_PER_CLIENT'), STREAM_LIMIT_DEFAULTS.maxConcurrentPerClient, 1),
    },
    firehose: {
      maxSubscribers: parseInteger('PDS_FIREHOSE_MAX_SUBSCRIBERS', read('PDS_FIREHOSE_MAX_SUBSCRIBERS'), 256, 1),
      maxSubscribersPerClient: parseInteger('PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_CLIENT', read('PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_CLIENT'), 8, 1),
    },
    email: {
      smtpUrl,
      fromAddress: read('PDS_EMAIL_FROM_ADDRESS'),
    },
    rateLimits: {
      enabled: parseBool('PDS_RATE_LIMITS_ENABLED', read('PDS_RATE_LIMITS_ENABLED'), true),
      trustedProxies: parseList(read('PDS_TRUSTED_PROXIES')) ?? [],
    },
    oauth: { trustedClients },
    log: { level: logLevel },
    backup: parseBackup(read, blobDir),
    metrics: {
      enabled: parseBool('PDS_METRICS_ENABLED', read('PDS_METRICS_ENABLED'), true),
      listen: parseListenAddress('PDS_METRICS_LISTEN', read('PDS_METRICS_LISTEN')),
    },
    strictXrpc: parseBool('PDS_STRICT_XRPC', read('PDS_STRICT_XRPC'), devMode),
  };
}

/**
 * The HTTP(S) URLs the operator configured, which the trusted fetch may reach (any address).
 * SMTP (PDS_EMAIL_SMTP_URL) is trusted the same way but is not HTTP: the mailer connects to it directly.
 */
export function operatorUrls(config: Pick<Config, 'identity' | 'crawlers' | 'services'>): string[] {
  const services = Object.values(config.services).flatMap((service) => (service === undefined ? [] : [service.url]));
  return [config.identity.plcUrl, ...config.crawlers, ...services];
}

/** The config with secrets replaced, for `_admin/status` and logs. */
export function redactConfig(config: Config): unknown {
  return {
    ...config,
    secrets: Object.fromEntries(Object.keys(config.secrets).map((key) => [key, '[redacted]'])),
    email: { ...config.email, smtpUrl: config.email.smtpUrl ? redactUrl(config.email.smtpUrl) : undefined },
  };
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return '[redacted]';
  }
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

function parseHostname(value: string): string {
  const host = value.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(host)) {
    throw new ConfigError('PDS_HOSTNAME', `"${value}" is not a hostname (no scheme, no port, no path)`);
  }
  return host;
}

function parsePort(variable: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(variable, `"${value}" is not a port number (0-65535)`);
  return port;
}

function parseInteger(variable: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(variable, `"${value}" must be a whole number of at least ${min}`);
  }
  return n;
}

function parseBackup(read: (name: string) => string | undefined, blobDir: string): Config['backup'] {
  const dirValue = read('PDS_BACKUP_DIRECTORY');
  const interval = read('PDS_BACKUP_INTERVAL');
  const keep = read('PDS_BACKUP_KEEP');
  if (dirValue === undefined) {
    if (interval !== undefined) throw new ConfigError('PDS_BACKUP_INTERVAL', 'needs PDS_BACKUP_DIRECTORY (where scheduled backups go)');
    if (keep !== undefined) throw new ConfigError('PDS_BACKUP_KEEP', 'needs PDS_BACKUP_DIRECTORY (where scheduled backups go)');
    return undefined;
  }
  const dir = absolute(dirValue);
  if (dir === blobDir || dir.startsWith(`${blobDir}/`)) throw new ConfigError('PDS_BACKUP_DIRECTORY', `"${dirValue}" is inside the blob store; use a directory of its own, ideally on another disk`);
  return {
    dir,
    intervalMs: parseDuration('PDS_BACKUP_INTERVAL', interval ?? '24h', 60_000),
    keep: parseInteger('PDS_BACKUP_KEEP', keep, 7, 1),
  };
}

/** `90s`, `30m`, `6h`, `1d`: a duration of at least `minMs`. */
function parseDuration(variable: string, value: string, minMs: number): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!Number.isSafeInteger(ms) || ms < minMs) throw new ConfigError(variable, `"${value}" must be a duration like 30m, 6h or 1d, of at least ${minMs / 60_000} minute(s)`);
  return ms;
}

/** `host:port` (`[v6]:port` for IPv6): an interface and a port to listen on. */
function parseListenAddress(variable: string, value: string | undefined): { host: string; port: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+)):(\d{1,5})$/i.exec(value);
  if (!match) throw new ConfigError(variable, `"${value}" must be host:port, like 127.0.0.1:9464 or [::1]:9464`);
  return { host: match[1] ?? match[2], port: parsePort(variable, match[3]) };
}

function parseBool(variable: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(variable, `"${value}" must be true or false`);
}

function parseSigningAlg(value: string | undefined): 'ES256K' | 'ES256' {
  if (value === undefined) return 'ES256K';
  const alg = value.toUpperCase();
  if (alg === 'ES256K' || alg === 'ES256') return alg;
  throw new ConfigError('PDS_REPO_SIGNING_KEY_ALG', `"${value}" must be ES256K (secp256k1) or ES256 (P-256)`);
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items;
}

/**
 * `<prefix>_URL` and `<prefix>_DID` name a service together. Both absent: the fallback (if any).
 * `<prefix>_URL` set but empty: no service, whatever the fallback (how an operator turns a default off).
 */
function parseService(env: Env, read: (name: string) => string | undefined, prefix: string, fallback?: ConfiguredService): ConfiguredService | undefined {
  const urlVar = `${prefix}_URL`;
  const didVar = `${prefix}_DID`;
  const url = read(urlVar);
  const did = read(didVar);
  if (url === undefined && env[urlVar] !== undefined) return undefined;
  if (url === undefined && did === undefined) return fallback;
  if (url === undefined) throw new ConfigError(urlVar, `must be set when ${didVar} is (the service's base URL)`);
  if (did === undefined) throw new ConfigError(didVar, `must be set when ${urlVar} is (the DID its service-auth tokens are addressed to)`);
  const parsed = parseUrl(urlVar, url);
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new ConfigError(urlVar, `"${url}" must be a base URL without credentials, query or fragment`);
  }
  if (!isValidDid(did) || did.includes('#')) throw new ConfigError(didVar, `"${did}" is not a DID (no #fragment: the service id is implied)`);
  return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), did };
}

const HTTP_SCHEMES = ['http:', 'https:'];
const SMTP_SCHEMES = ['smtp:', 'smtps:'];

/** A URL of one of `schemes` (http or https unless said otherwise). */
function parseUrl(variable: string, value: string, schemes: readonly string[] = HTTP_SCHEMES): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `"${value}" is not a URL`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new ConfigError(variable, `"${value}" must be an ${schemes === SMTP_SCHEMES ? 'smtp(s)' : 'http(s)'} URL`);
  }
  return url;
}
