// The sign-in form's steps, shared by the authorization pages and the authorized-apps page: the
// password, then (for an account with email as a second factor) the mailed code alone. The
// checked password is carried to the code step by a pending sign-in (bound to this browser and
// this purpose, short-lived, single use, a few wrong codes at most); what each page renders comes
// back as an outcome.
import type { IncomingMessage } from 'node:http';
import { SignInError, type PagesContext } from './pages-context.ts';

export type SignInOutcome =
  | { kind: 'signed-in'; did: string; remember: boolean }
  /** Show the password form again, with `message`. */
  | { kind: 'password'; message: string; status: number; identifier?: string }
  /** Show the code form: `pending` goes in its hidden field. */
  | { kind: 'code'; pending: string; handle: string; message: string; notice: boolean; status: number };

export async function runSignIn(pages: PagesContext, req: IncomingMessage, deviceId: string, purpose: string, form: Record<string, string>): Promise<SignInOutcome> {
  const ip = pages.clientIp(req);
  const pendingId = form.pending;
  if (pendingId !== undefined) {
    const pending = pages.pendingSignIns.find(pendingId, deviceId, purpose);
    if (pending === undefined) return { kind: 'password', message: 'This sign-in has expired. Enter your password again.', status: 401 };
    try {
      const did = await pages.accounts.completeSignIn(pending, form.code ?? '', ip);
      pages.pendingSignIns.forget(pendingId);
      return { kind: 'signed-in', did, remember: pending.remember };
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      const handle = handleOf(pages, pending.did);
      // A wrong code, or too many sign-in attempts for now: the same step again, while it lasts.
      if (err.next.firstFactor !== undefined || err.status === 429) {
        if (err.status === 429 || pages.pendingSignIns.wrongCode(pendingId)) return { kind: 'code', pending: pendingId, handle: handle ?? '', message: err.message, notice: false, status: err.status };
        return { kind: 'password', message: 'Too many wrong codes. Enter your password again to get a new one.', status: 401, identifier: handle };
      }
      pages.pendingSignIns.forget(pendingId);
      return { kind: 'password', message: err.message, status: err.status, identifier: handle };
    }
  }

  const identifier = (form.identifier ?? '').trim();
  const remember = form.remember === '1';
  try {
    if (identifier === '' || !form.password) throw new SignInError('Enter your handle or email and your password.', 400);
    return { kind: 'signed-in', did: await pages.accounts.signIn(identifier, form.password, ip, form.code), remember };
  } catch (err) {
    if (!(err instanceof SignInError)) throw err;
    const first = err.next.firstFactor;
    if (first === undefined) return { kind: 'password', message: err.message, status: err.status, identifier };
    const pending = pages.pendingSignIns.start(deviceId, purpose, { ...first, remember });
    return { kind: 'code', pending, handle: handleOf(pages, first.did) ?? identifier, message: err.message, notice: err.next.notice === true, status: err.status };
  }
}

function handleOf(pages: PagesContext, did: string): string | undefined {
  return pages.accounts.view(did)?.handle;
}
