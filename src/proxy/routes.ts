// Where a request goes: answered here, or forwarded to which service. Decided from the method
// name, the `atproto-proxy` header and the configured services alone (no I/O), before the
// controller looks at the method table. The rules follow the official PDS:
// - a method Squall serves is answered here whatever the header says (clients send the header on
//   every call of an agent, and a write must never reach an AppView), except the few methods that
//   are forwarded when the header names another service than their default one (preferences);
// - a method Squall does not serve goes where the header says, or by default where its namespace
//   goes (app.bsky.* to the AppView, chat.bsky.* to the chat service, reports to the report
//   service, tools.ozone.* to the moderation service), whatever its name (custom Lexicons too);
// - account, session, identity, admin and repo methods are never sent away.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import { isValidDid, isValidNsid } from '../syntax/index.ts';
import { InvalidRequestError, type LocalMethod } from '../xrpc/index.ts';

/** A service a request is forwarded to. */
export interface ProxyRoute {
  /** The service's DID: the audience of the token. */
  did: string;
  /** The service id in its DID document (`bsky_appview`, `bsky_chat`, `atproto_labeler`...). */
  serviceId: string;
  /** Base URL when the operator configured this service (trusted); otherwise resolved from the DID document. */
  url?: string;
}

type ServiceSlot = keyof Config['services'];

interface DefaultRoute {
  /** An NSID prefix ending with a dot, or a whole NSID. */
  match: string;
  slot: ServiceSlot;
  serviceId: string;
}

/** Where a method goes without a header: the longest match wins. */
const DEFAULT_ROUTES: readonly DefaultRoute[] = [
  { match: 'app.bsky.', slot: 'appView', serviceId: 'bsky_appview' },
  { match: 'chat.bsky.', slot: 'chat', serviceId: 'bsky_chat' },
  { match: 'com.atproto.moderation.createReport', slot: 'report', serviceId: 'atproto_labeler' },
  { match: 'tools.ozone.', slot: 'mod', serviceId: 'atproto_labeler' },
];

/**
 * Namespaces whose methods stay with the account's own PDS: administration, the account, its
 * sessions and credentials, its identity, its repo. One Squall does not implement is refused
 * rather than sent to whatever service a header names (with a token for that method).
 */
const NEVER_FORWARDED = ['com.atproto.admin.', 'com.atproto.server.', 'com.atproto.identity.', 'com.atproto.repo.'];

const SERVICE_ID_RE = /^[a-zA-Z0-9._~-]{1,64}$/;
const MAX_HEADER_LENGTH = 2048 + 65;

export class ProxyRoutes {
  /** `did#serviceId` of each configured service: a header naming one uses its configured URL. */
  readonly #configured = new Map<string, ProxyRoute>();
  readonly #byDefault = new Map<DefaultRoute, ProxyRoute>();

  constructor(services: Config['services']) {
    for (const match of DEFAULT_ROUTES) {
      const service = services[match.slot];
      if (!service) continue;
      const route = { did: service.did, serviceId: match.serviceId, url: service.url };
      this.#configured.set(`${service.did}#${match.serviceId}`, route);
      this.#byDefault.set(match, route);
    }
  }

  /** The route of a request, or undefined when it is answered here (see the file comment). */
  decide(nsid: string, req: IncomingMessage, local: LocalMethod | undefined): ProxyRoute | undefined {
    if (local && !local.forwardWhenProxiedElsewhere) return undefined;
    const header = proxyHeader(req);
    if (local) {
      if (header === undefined) return undefined;
      const route = this.#fromHeader(header);
      const match = defaultRouteFor(nsid);
      const byDefault = match && this.#defaultRoute(match);
      return byDefault && byDefault.did === route.did && byDefault.serviceId === route.serviceId ? undefined : route;
    }
    if (!isValidNsid(nsid)) return undefined;
    if (NEVER_FORWARDED.some((prefix) => nsid.startsWith(prefix))) {
      if (header === undefined) return undefined;
      throw new InvalidRequestError(`${nsid} is answered by the account's own PDS only and is never forwarded to another service`);
    }
    if (header !== undefined) return this.#fromHeader(header);
    const match = defaultRouteFor(nsid);
    if (!match) return undefined;
    const route = this.#defaultRoute(match);
    if (!route) throw new InvalidRequestError(`No service is configured for ${nsid}: name one with an atproto-proxy header`);
    return route;
  }

  /** The configured service behind a `did#serviceId`, if the operator configured it. */
  configured(did: string, serviceId: string): ProxyRoute | undefined {
    return this.#configured.get(`${did}#${serviceId}`);
  }

  #defaultRoute(match: DefaultRoute): ProxyRoute | undefined {
    return this.#byDefault.get(match);
  }

  #fromHeader(header: string): ProxyRoute {
    const { did, serviceId } = parseProxyHeader(header);
    return this.#configured.get(`${did}#${serviceId}`) ?? { did, serviceId };
  }
}

function defaultRouteFor(nsid: string): DefaultRoute | undefined {
  let best: DefaultRoute | undefined;
  for (const route of DEFAULT_ROUTES) {
    const matches = route.match.endsWith('.') ? nsid.startsWith(route.match) : nsid === route.match;
    if (matches && (!best || route.match.length > best.match.length)) best = route;
  }
  return best;
}

function proxyHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['atproto-proxy'];
  if (value === undefined) return undefined;
  // Node joins repeated unknown headers with ", ", which the parser below refuses.
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `did#serviceId`, checked: a malformed header is a 400 that says what is wrong, and nothing is sent. */
export function parseProxyHeader(header: string): { did: string; serviceId: string } {
  const value = header.trim();
  if (value.length > MAX_HEADER_LENGTH) throw new InvalidRequestError('atproto-proxy header is too long');
  const hash = value.indexOf('#');
  if (hash === 0) throw new InvalidRequestError('atproto-proxy header names no DID (expected did#service_id)');
  if (hash === -1 || hash === value.length - 1) {
    throw new InvalidRequestError('atproto-proxy header names no service id (expected did#service_id, e.g. did:web:api.bsky.app#bsky_appview)');
  }
  if (value.indexOf('#', hash + 1) !== -1 || /\s/.test(value)) throw new InvalidRequestError('atproto-proxy header is malformed (expected did#service_id)');
  const did = value.slice(0, hash);
  const serviceId = value.slice(hash + 1);
  if (!isValidDid(did)) throw new InvalidRequestError('atproto-proxy header names an invalid DID');
  if (!SERVICE_ID_RE.test(serviceId)) throw new InvalidRequestError('atproto-proxy header names an invalid service id');
  return { did, serviceId };
}
