// The browser a person uses on the authorization pages, known by a cookie: which accounts signed
// in on it (for the account chooser), and which requests it opened. The cookie holds an id and a
// secret; only the secret's hash is stored. Cookies are Secure, HttpOnly and SameSite=Lax (the
// client sends the browser here with a cross-site top-level GET, which Lax lets through).
// Browsers treat http://localhost as a secure context, so Secure cookies work in local development.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeviceAccount, DeviceStore } from '../store/types.ts';
import { hashSecret } from '../token/secrets.ts';

const DEVICE_MAX_AGE_S = 365 * 24 * 60 * 60;
/** A remembered account can be picked without its password for this long after signing in. */
export const REMEMBERED_SIGN_IN_MS = 30 * 24 * 60 * 60 * 1000;

export interface Device {
  id: string;
  /** Whether the cookie was just created by this response (the browser may not keep it). */
  fresh: boolean;
}

export class DeviceSessions {
  readonly cookieName: string;

  constructor(
    private readonly store: DeviceStore,
    private readonly csrfKey: Buffer,
    issuer: string,
    private readonly now: () => number = Date.now,
  ) {
    // `__Host-` pins the cookie to this exact origin, over https; plain http (localhost) cannot use it.
    this.cookieName = issuer.startsWith('https:') ? '__Host-squall-device' : 'squall-device';
  }

  /** The device of this browser, if its cookie is valid. */
  async find(req: IncomingMessage): Promise<Device | undefined> {
    const value = readCookie(req, this.cookieName);
    if (value === undefined) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const id = value.slice(0, dot);
    const device = await this.store.readDevice(id);
    if (device === undefined) return undefined;
    const given = Buffer.from(hashSecret(value.slice(dot + 1)));
    const expected = Buffer.from(device.secretHash);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { id, fresh: false };
  }

  /** The device of this browser, creating it (and its cookie) when there is none. */
  async ensure(req: IncomingMessage, res: ServerResponse, ip: string): Promise<Device> {
    const userAgent = String(req.headers['user-agent'] ?? '').slice(0, 256) || null;
    const found = await this.find(req);
    const now = new Date(this.now());
    if (found !== undefined) {
      await this.store.touchDevice(found.id, { lastSeenAt: now, userAgent, ip });
      return found;
    }
    const id = `dev-${randomBytes(16).toString('base64url')}`;
    const secret = randomBytes(32).toString('base64url');
    await this.store.createDevice({ id, secretHash: hashSecret(secret), userAgent, ip, createdAt: now, lastSeenAt: now });
    res.appendHeader('Set-Cookie', `${this.cookieName}=${id}.${secret}; Path=/; Max-Age=${DEVICE_MAX_AGE_S}; HttpOnly; Secure; SameSite=Lax`);
    return { id, fresh: true };
  }

  /** Accounts this device may pick without a password (remembered, signed in recently). */
  async rememberedAccounts(deviceId: string): Promise<DeviceAccount[]> {
    const cutoff = this.now() - REMEMBERED_SIGN_IN_MS;
    return (await this.store.listDeviceAccounts(deviceId)).filter((a) => a.remember && a.authenticatedAt.getTime() > cutoff);
  }

  async signedIn(deviceId: string, did: string, remember: boolean): Promise<void> {
    await this.store.upsertDeviceAccount(deviceId, { did, authenticatedAt: new Date(this.now()), remember });
  }

  async signOut(deviceId: string, did: string): Promise<void> {
    await this.store.removeDeviceAccount(deviceId, did);
  }

  /** The CSRF token of this device for one purpose (a request id, or the account page). */
  csrfToken(deviceId: string, purpose: string): string {
    return createHmac('sha256', this.csrfKey).update(`${deviceId}\n${purpose}`).digest('base64url');
  }

  checkCsrf(deviceId: string, purpose: string, given: string | undefined): boolean {
    if (typeof given !== 'string') return false;
    const expected = Buffer.from(this.csrfToken(deviceId, purpose));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
