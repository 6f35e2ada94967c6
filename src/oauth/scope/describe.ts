// One line in plain words per permission, for the consent page and the list of authorized apps.
import { AccountPermission, BlobPermission, IdentityPermission, RepoPermission, RpcPermission } from '@atproto/oauth-scopes';

export interface PermissionLine {
  /** What the app may do, as a person would say it. */
  text: string;
  /** The exact scope or the things it covers, for those who want to check. */
  detail?: string;
}

/** Titles of `include:` permission sets, when they have been resolved. */
export type PermissionSetTitles = (nsid: string) => { title?: string; detail?: string } | undefined;

export function describeScopes(scope: string, setTitles: PermissionSetTitles = () => undefined): PermissionLine[] {
  const lines: PermissionLine[] = [];
  for (const value of scope.split(' ')) {
    if (value === '' || value === 'atproto') continue;
    lines.push(describeScope(value, setTitles));
  }
  if (lines.length === 0) lines.push({ text: 'Know which account you are (your handle and DID); nothing else' });
  return lines;
}

function describeScope(value: string, setTitles: PermissionSetTitles): PermissionLine {
  switch (value) {
    case 'transition:generic':
      return { text: 'Read and change everything in your account except private messages: post, like, follow, upload media, change your preferences', detail: value };
    case 'transition:chat.bsky':
      return { text: 'Read and send your private messages (Bluesky chat)', detail: value };
    case 'transition:email':
      return { text: 'See your email address', detail: value };
  }
  const resource = value.split(/[:?]/, 1)[0];
  if (resource === 'repo') {
    const p = RepoPermission.fromString(value);
    if (p) {
      const what = p.collection.includes('*') ? 'any kind of record' : `records of type ${p.collection.join(', ')}`;
      return { text: `${capitalize(listActions(p.action))} ${what} in your public repository`, detail: value };
    }
  }
  if (resource === 'rpc') {
    const p = RpcPermission.fromString(value);
    if (p) {
      const methods = p.lxm.includes('*') ? 'any method' : p.lxm.join(', ');
      const service = p.aud === '*' ? 'any service' : p.aud;
      return { text: `Call ${methods} on ${service} in your name`, detail: value };
    }
  }
  if (resource === 'blob') {
    const p = BlobPermission.fromString(value);
    if (p) return { text: p.accept.includes('*/*') ? 'Upload files of any type' : `Upload files of type ${p.accept.join(', ')}`, detail: value };
  }
  if (resource === 'account') {
    const p = AccountPermission.fromString(value);
    if (p) {
      const manage = p.action.includes('manage');
      if (p.attr === 'email') return { text: manage ? 'See and change your email address' : 'See your email address', detail: value };
      if (p.attr === 'repo') return { text: manage ? 'Replace your whole repository with an imported one' : 'Read your repository settings', detail: value };
      if (p.attr === 'status') return { text: manage ? 'Deactivate and reactivate your account' : 'See whether your account is active', detail: value };
    }
  }
  if (resource === 'identity') {
    const p = IdentityPermission.fromString(value);
    if (p) return { text: p.attr === '*' ? 'Take full control of your identity (your DID document and handle)' : 'Change your handle', detail: value };
  }
  if (resource === 'include') {
    const nsid = value.slice('include:'.length).split('?')[0];
    const set = setTitles(nsid);
    return { text: set?.title ? `${set.title}${set.detail ? `: ${set.detail}` : ''}` : `Use the permissions that ${nsid} defines`, detail: value };
  }
  return { text: 'A permission this server cannot describe', detail: value };
}

function listActions(actions: readonly string[]): string {
  const words = actions.map((a) => (a === 'create' ? 'create' : a === 'update' ? 'change' : 'delete'));
  if (words.length === 3) return 'create, change and delete';
  return words.join(' and ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
