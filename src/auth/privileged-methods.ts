/**
 * Privileged methods: the ones that reach a person's private messages (`chat.bsky.*`). Only full
 * sessions and privileged app passwords (`AccessAuth.privileged`) may call them, get a service
 * token for them, or have them proxied; that is all a privileged app password adds. Matched by
 * namespace, not by a list, so a chat method added later is privileged from the start.
 */
export function isPrivilegedMethod(nsid: string): boolean {
  return nsid.startsWith('chat.bsky.');
}
