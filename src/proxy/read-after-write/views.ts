// How each view the official PDS completes after a write takes the account's newer records:
// profiles get the current name, avatar, description and banner; feeds get the new posts (in
// time order) and the current author card; a thread gets new replies in place.
import type { Json, LocalRecords } from './local-records.ts';
import { isObject, type LocalViewer } from './viewer.ts';

/** Merges the account's newer records into the AppView's answer. */
export type Merge = (view: Json, local: LocalRecords, viewer: LocalViewer) => Promise<Json> | Json;

const getProfile: Merge = (view, local, viewer) => {
  if (!local.profile || view.did !== viewer.did) return view;
  return viewer.updateDetailed(view, local.profile.value);
};

const getProfiles: Merge = (view, local, viewer) => {
  const record = local.profile?.value;
  if (!record || !Array.isArray(view.profiles)) return view;
  return { ...view, profiles: view.profiles.map((p: unknown) => (isObject(p) && p.did === viewer.did ? viewer.updateDetailed(p, record) : p)) };
};

/** The author card of the account's own posts in a feed, with the current profile. */
function updateAuthors(feed: unknown[], local: LocalRecords, viewer: LocalViewer): unknown[] {
  const record = local.profile?.value;
  if (!record) return feed;
  return feed.map((item) => {
    if (!isObject(item) || !isObject(item.post) || !isObject(item.post.author) || item.post.author.did !== viewer.did) return item;
    return { ...item, post: { ...item.post, author: viewer.updateBasic(item.post.author, record) } };
  });
}

/** The new posts, newer than the feed's last item, each at its place in time (newest first). */
async function insertPosts(feed: unknown[], local: LocalRecords, viewer: LocalViewer): Promise<unknown[]> {
  if (local.posts.length === 0) return feed;
  const items = [...feed];
  const last = items.at(-1);
  const lastTime = isObject(last) && isObject(last.post) && typeof last.post.indexedAt === 'string' ? last.post.indexedAt : new Date(0).toISOString();
  const fresh = local.posts.filter((p) => p.indexedAt > lastTime).reverse();
  for (const post of fresh) {
    const view = await viewer.postView(post);
    const at = items.findIndex((item) => isObject(item) && isObject(item.post) && typeof item.post.indexedAt === 'string' && item.post.indexedAt < post.indexedAt);
    if (at === -1) items.push({ post: view });
    else items.splice(at, 0, { post: view });
  }
  return items;
}

const getTimeline: Merge = async (view, local, viewer) => {
  if (!Array.isArray(view.feed)) return view;
  return { ...view, feed: await insertPosts(view.feed, local, viewer) };
};

/** Only the account's own feed gets its new posts: a feed whose first item is its post or repost. */
function isOwnFeed(feed: unknown[], did: string): boolean {
  const first = feed[0];
  if (!isObject(first) || !isObject(first.post) || !isObject(first.post.author)) return false;
  if (isObject(first.reason)) return first.reason.$type === 'app.bsky.feed.defs#reasonRepost' && isObject(first.reason.by) && first.reason.by.did === did;
  return first.post.author.did === did;
}

const getAuthorFeed: Merge = async (view, local, viewer) => {
  if (!Array.isArray(view.feed) || !isOwnFeed(view.feed, viewer.did)) return view;
  return { ...view, feed: await insertPosts(updateAuthors(view.feed, local, viewer), local, viewer) };
};

const getActorLikes: Merge = (view, local, viewer) => {
  if (!Array.isArray(view.feed)) return view;
  return { ...view, feed: updateAuthors(view.feed, local, viewer) };
};

export const PROFILE_AND_FEED_MERGES: Readonly<Record<string, Merge>> = {
  'app.bsky.actor.getProfile': getProfile,
  'app.bsky.actor.getProfiles': getProfiles,
  'app.bsky.feed.getTimeline': getTimeline,
  'app.bsky.feed.getAuthorFeed': getAuthorFeed,
  'app.bsky.feed.getActorLikes': getActorLikes,
};
