import { statfs } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { listBackups } from '../backup/backup.ts';
import { readManifest } from '../backup/manifest.ts';
import type { Config } from '../config.ts';
import { getText, parseJson, request, RequestFailedError, upgradeStatus } from './http.ts';
import { fail, pass, warn, type CheckResult } from './types.ts';

export interface HttpOptions {
  /** Trust store for operator-configured HTTPS URLs (default: Node's bundled authorities). */
  ca?: string[];
  timeoutMs?: number;
}

const isLocal = (host: string) => host === 'localhost' || host.endsWith('.test') || host === '127.0.0.1' || host === '[::1]';

/** The public URL answers `_health` over HTTPS with a certificate apps and relays accept. */
export async function checkPublicUrl(config: Config, http: HttpOptions): Promise<CheckResult> {
  const name = 'public URL';
  const base = config.service.publicUrl;
  const url = new URL(`${base}/xrpc/_health`);
  if (url.protocol !== 'https:' && !isLocal(url.hostname)) {
    return fail(name, `PDS_PUBLIC_URL is ${base}: apps and relays reach a PDS over HTTPS only`, 'put a TLS-terminating proxy (Caddy, nginx) in front of Squall and set PDS_PUBLIC_URL=https://<hostname>');
  }
  let answer;
  try {
    answer = await getText(url.href, http);
  } catch (err) {
    const code = (err as RequestFailedError).code ?? '';
    if (/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
      return fail(name, `${base} answers, but ${(err as Error).message}`, `serve a certificate from a public authority covering ${url.hostname} (Let's Encrypt; Caddy gets and renews one by itself)`);
    }
    return fail(name, `${base} cannot be reached: ${(err as Error).message}`, `check that Squall runs, that the DNS records of ${url.hostname} point at this machine, and that the proxy forwards to PDS_PORT (${config.service.port})`);
  }
  const body = parseJson(answer.body);
  if (answer.status === 200 && typeof body?.version === 'string') {
    if (url.protocol !== 'https:') return warn(name, `${base} answers _health (version ${body.version}), over plain HTTP`, 'a local URL: nothing outside this machine can reach it; set PDS_PUBLIC_URL=https://<hostname> for a public server');
    return pass(name, `${base} answers _health over HTTPS with a valid certificate (version ${body.version})`);
  }
  if (answer.status === 503) return fail(name, `${base} answers _health with 503: ${String(body?.message ?? '')}`, 'the server cannot write to its storage: see its log');
  return fail(name, `${base}/xrpc/_health answers ${answer.status}, not Squall's health answer`, 'the URL reaches something else: check the reverse proxy forwards /xrpc/ to Squall');
}

/** describeServer, as apps ask it, names the configured service DID. */
export async function checkServiceDid(config: Config, http: HttpOptions): Promise<CheckResult> {
  const name = 'service DID';
  try {
    const answer = await getText(`${config.service.publicUrl}/xrpc/com.atproto.server.describeServer`, http);
    const did = parseJson(answer.body)?.did;
    if (answer.status !== 200) return fail(name, `describeServer answers ${answer.status}`, 'see the public URL check');
    if (did !== config.service.did) {
      return fail(name, `describeServer at the public URL says ${String(did)}, this configuration says ${config.service.did}`, 'the public URL reaches another server, or PDS_HOSTNAME / PDS_SERVICE_DID differ from the running server\'s: restart it with this configuration');
    }
    return pass(name, `describeServer names ${did}`);
  } catch (err) {
    return fail(name, `describeServer cannot be read: ${(err as Error).message}`, 'see the public URL check');
  }
}

/** The firehose at the public URL takes a WebSocket upgrade: relays read every post from there. */
export async function checkFirehose(config: Config, http: HttpOptions): Promise<CheckResult> {
  const name = 'firehose';
  const url = `${config.service.publicUrl}/xrpc/com.atproto.sync.subscribeRepos`;
  const shown = url.replace(/^http/, 'ws');
  let status;
  try {
    status = await upgradeStatus(url, http);
  } catch (err) {
    return fail(name, `${shown} cannot be reached: ${(err as Error).message}`, 'see the public URL check');
  }
  if (status === 101) return pass(name, `${shown} accepts a WebSocket subscription`);
  return fail(
    name,
    `${shown} answers ${status} instead of taking the WebSocket upgrade: relays cannot read this server's posts`,
    'let the reverse proxy pass WebSocket upgrades to Squall (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; Caddy passes them by itself)',
  );
}

export async function checkPlc(config: Config, http: HttpOptions): Promise<CheckResult> {
  const name = 'PLC directory';
  try {
    const answer = await getText(`${config.identity.plcUrl}/_health`, http);
    if (answer.status === 200) return pass(name, `${config.identity.plcUrl} answers`);
    return fail(name, `${config.identity.plcUrl}/_health answers ${answer.status}`, 'check PDS_DID_PLC_URL (https://plc.directory for the public network)');
  } catch (err) {
    return fail(name, `${config.identity.plcUrl} cannot be reached: ${(err as Error).message}`, 'check PDS_DID_PLC_URL and this machine\'s outbound network (DNS, firewall)');
  }
}

/**
 * Asks each configured relay to crawl this host now (com.atproto.sync.requestCrawl), as the
 * server does after writes at most every 20 minutes; the relay answers once it reached us.
 */
export async function requestCrawls(config: Config, http: HttpOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const relay of config.crawlers.map((u) => u.replace(/\/+$/, ''))) {
    const name = `crawl request to ${relay}`;
    try {
      const answer = await request(`${relay}/xrpc/com.atproto.sync.requestCrawl`, { ...http, method: 'POST', json: { hostname: config.service.hostname } });
      const body = parseJson(answer.body);
      if (answer.status === 200) results.push(pass(name, `accepted for ${config.service.hostname}`));
      else results.push(fail(name, `refused (${answer.status}${body?.error ? ` ${String(body.error)}` : ''}${body?.message ? `: ${String(body.message)}` : ''})`, 'the relay could not reach this server or refuses it: make the public URL and firehose checks pass, then ask again; a relay\'s operators can say why it refuses'));
    } catch (err) {
      results.push(fail(name, `${relay} cannot be reached: ${(err as Error).message}`, 'check the URL in PDS_CRAWLERS and this machine\'s outbound network'));
    }
  }
  return results;
}

export interface RelayHost {
  url: string;
  /** The relay answered getHostStatus and knows this host. */
  knowsHost: boolean;
}

/** Each configured relay knows this host (com.atproto.sync.getHostStatus), when it answers that. */
export async function checkRelays(config: Config, http: HttpOptions): Promise<{ results: CheckResult[]; relays: RelayHost[] }> {
  if (config.crawlers.length === 0) {
    return {
      results: [fail('relays', 'PDS_CRAWLERS is empty: no relay is asked to crawl this server, so nothing posted here reaches the network', 'set PDS_CRAWLERS=https://bsky.network (comma-separate several relays)')],
      relays: [],
    };
  }
  const results: CheckResult[] = [];
  const relays: RelayHost[] = [];
  const hostname = config.service.hostname;
  const requestCrawl = () => 'make sure the public URL and firehose checks pass, then ask the relay to crawl now: npm run admin -- doctor --request-crawl (Squall also asks after writes, at most every 20 minutes)';
  for (const relay of config.crawlers.map((u) => u.replace(/\/+$/, ''))) {
    const name = `relay ${relay}`;
    let answer;
    try {
      answer = await getText(`${relay}/xrpc/com.atproto.sync.getHostStatus?hostname=${encodeURIComponent(hostname)}`, http);
    } catch (err) {
      results.push(fail(name, `cannot be reached: ${(err as Error).message}`, 'check the URL in PDS_CRAWLERS and this machine\'s outbound network'));
      relays.push({ url: relay, knowsHost: false });
      continue;
    }
    const body = parseJson(answer.body);
    if (answer.status === 200) {
      const status = String(body?.status ?? 'active');
      if (status === 'active') results.push(pass(name, `knows ${hostname} (status active${typeof body?.seq === 'number' ? `, seq ${body.seq}` : ''})`));
      else results.push(fail(name, `knows ${hostname} but has it as ${status}`, status === 'banned' ? 'ask the relay\'s operators why' : requestCrawl()));
      relays.push({ url: relay, knowsHost: status === 'active' });
    } else if (body?.error === 'HostNotFound' || (answer.status === 400 && /not found/i.test(String(body?.message)))) {
      results.push(fail(name, `does not know ${hostname}: it was never asked to crawl, or could not reach this server`, requestCrawl()));
      relays.push({ url: relay, knowsHost: false });
    } else {
      results.push(warn(name, `does not answer com.atproto.sync.getHostStatus (${answer.status}${body?.error ? ` ${String(body.error)}` : ''}); whether it knows this host cannot be checked`, 'nothing to do here; check the account in an app'));
      relays.push({ url: relay, knowsHost: false });
    }
  }
  return { results, relays };
}

/** The SMTP server accepts a connection and greets (220). */
export async function checkSmtp(config: Config, timeoutMs = 5000): Promise<CheckResult> {
  const name = 'SMTP';
  if (!config.email.smtpUrl) return warn(name, `no PDS_EMAIL_SMTP_URL: account email (confirmation, password reset) goes to ${join(config.storage.dataDir, 'outbox')}`, 'set PDS_EMAIL_SMTP_URL=smtp://user:password@host:587 and PDS_EMAIL_FROM_ADDRESS');
  const url = new URL(config.email.smtpUrl);
  const secure = url.protocol === 'smtps:';
  const port = Number(url.port || (secure ? 465 : 587));
  const where = `${url.hostname}:${port}`;
  try {
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = secure ? tlsConnect({ host: url.hostname, port, servername: url.hostname }) : netConnect({ host: url.hostname, port });
      const timer = setTimeout(() => socket.destroy(new Error(`no greeting within ${timeoutMs / 1000} s`)), timeoutMs);
      socket.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        socket.end('QUIT\r\n');
        resolve(chunk.toString('utf8').split('\r\n')[0]);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    if (greeting.startsWith('220')) return pass(name, `${where} accepts connections (${greeting.slice(0, 80)})`);
    return fail(name, `${where} greets with "${greeting.slice(0, 80)}", not 220`, 'check PDS_EMAIL_SMTP_URL points at an SMTP server');
  } catch (err) {
    return fail(name, `${where} does not accept a connection: ${(err as Error).message}`, 'check PDS_EMAIL_SMTP_URL (host, port, smtp: or smtps:) and the firewall');
  }
}

/** Free space where the data lives. */
export async function checkDisk(config: Config): Promise<CheckResult> {
  const name = 'disk space';
  const stats = await statfs(config.storage.dataDir);
  const free = stats.bavail * stats.bsize;
  const share = stats.bavail / stats.blocks;
  const text = `${(free / 1e9).toFixed(1)} GB free (${(share * 100).toFixed(0)} %) under ${config.storage.dataDir}`;
  if (free < 1e9 || share < 0.05) return fail(name, text, 'free space or grow the disk: a full disk stops every write (SQLite and blobs)');
  if (share < 0.15) return warn(name, text, 'plan more space: writes stop when the disk is full');
  return pass(name, text);
}

/** The newest backup, and its age against the schedule. */
export async function checkBackups(config: Config, backupDir?: string, now = Date.now()): Promise<CheckResult> {
  const name = 'backups';
  const dir = backupDir ?? config.backup?.dir;
  if (!dir) return warn(name, 'no scheduled backups (PDS_BACKUP_DIRECTORY is unset) and no --backup-dir given', 'set PDS_BACKUP_DIRECTORY (another disk), or run npm run admin -- backup <dir> from cron; copy backups off the machine (docs/operations.md)');
  const newest = (await listBackups(dir)).at(-1);
  if (!newest) return fail(name, `no complete backup in ${dir}`, 'run npm run admin -- backup <dir>, and check the server log for "scheduled backup failed"');
  const completed = Date.parse((await readManifest(join(dir, newest))).completedAt);
  const ageHours = (now - completed) / 3_600_000;
  const limitHours = ((config.backup?.intervalMs ?? 86_400_000) * 2) / 3_600_000;
  const text = `newest backup ${join(dir, newest)} is ${ageHours.toFixed(1)} h old`;
  if (ageHours > limitHours) return fail(name, `${text} (more than twice the interval)`, 'scheduled backups are failing or stopped: check the server log for "scheduled backup failed"');
  return pass(name, text);
}
