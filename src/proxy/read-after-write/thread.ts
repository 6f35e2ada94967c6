// getPostThread after a write: the account's new replies inside the thread the AppView returns,
// and, when the AppView does not know the requested post yet (404 NotFound), the thread built
// from the account's own records, under the parents the AppView does know.
import type { Json, LocalRecord, LocalRecords } from './local-records.ts';
import { isObject, type LocalViewer } from './viewer.ts';

const THREAD_POST = 'app.bsky.feed.defs#threadViewPost';

export async function mergeIntoThread(view: Json, local: LocalRecords, viewer: LocalViewer): Promise<Json> {
  if (!isThreadPost(view.thread)) return view;
  return { ...view, thread: await addReplies(view.thread, local.posts, viewer) };
}

/** The thread of one of the account's own posts the AppView has not indexed yet, or undefined. */
export async function threadFromLocal(query: URLSearchParams, local: LocalRecords, viewer: LocalViewer): Promise<Json | undefined> {
  const uri = ownUri(query.get('uri') ?? '', viewer);
  const found = uri && local.posts.find((p) => p.uri === uri);
  if (!found) return undefined;
  const thread = await addReplies(
    await threadPost(found, viewer),
    local.posts.filter((p) => p !== found),
    viewer,
  );
  const parent = replyRef(found.value, 'parent');
  if (parent && viewer.appView) {
    const params: Record<string, string> = { uri: parent, depth: '0' };
    const parentHeight = query.get('parentHeight');
    if (parentHeight !== null) params.parentHeight = parentHeight;
    const above = await viewer.appView('app.bsky.feed.getPostThread', params).catch(() => undefined);
    if (above && isObject(above.thread)) thread.parent = above.thread;
  }
  return { thread };
}

/** The requested URI with the account's handle replaced by its DID, if it names the account at all. */
function ownUri(uri: string, viewer: LocalViewer): string | undefined {
  const match = /^at:\/\/([^/]+)(\/.*)?$/.exec(uri);
  if (!match) return undefined;
  const host = match[1].toLowerCase() === viewer.handle ? viewer.did : match[1];
  return host === viewer.did ? `at://${host}${match[2] ?? ''}` : undefined;
}

function isThreadPost(value: unknown): value is Json & { post: Json } {
  return isObject(value) && value.$type === THREAD_POST && isObject(value.post);
}

function replyRef(record: Json, which: 'root' | 'parent'): string | undefined {
  const reply = record.reply;
  if (!isObject(reply) || !isObject(reply[which])) return undefined;
  const uri = (reply[which] as Json).uri;
  return typeof uri === 'string' ? uri : undefined;
}

async function threadPost(post: LocalRecord, viewer: LocalViewer): Promise<Json & { post: Json }> {
  return { $type: THREAD_POST, post: await viewer.postView(post) };
}

/** The posts replying somewhere in this thread (same root), each under its parent. */
async function addReplies(thread: Json & { post: Json }, posts: LocalRecord[], viewer: LocalViewer): Promise<Json & { post: Json }> {
  const rootUri = thread.post.uri;
  const threadRoot = isObject(thread.post.record) ? replyRef(thread.post.record, 'root') : undefined;
  let out = thread;
  for (const post of posts) {
    const root = replyRef(post.value, 'root');
    if (root !== undefined && (root === rootUri || root === threadRoot)) out = await insertReply(out, post, viewer);
  }
  return out;
}

async function insertReply(node: Json & { post: Json }, post: LocalRecord, viewer: LocalViewer): Promise<Json & { post: Json }> {
  if (replyRef(post.value, 'parent') === node.post.uri) {
    return { ...node, replies: [await threadPost(post, viewer), ...(Array.isArray(node.replies) ? node.replies : [])] };
  }
  if (!Array.isArray(node.replies)) return node;
  const replies = await Promise.all(node.replies.map((reply: unknown) => (isThreadPost(reply) ? insertReply(reply, post, viewer) : reply)));
  return { ...node, replies };
}
