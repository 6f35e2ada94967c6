// Views of the account's own records, built the way an AppView would show them right after they
// were written: a post with no likes or replies yet, the author's profile as the repo has it now.
// Images point at this PDS's getBlob (the AppView's CDN has not seen them yet); a quoted record
// is looked up at the AppView.
import type { Json, LocalRecord } from './local-records.ts';

/** Asks the AppView for a view (as the account); undefined when it cannot answer. */
export type AppViewLookup = (nsid: string, params: Record<string, string | string[]>) => Promise<Json | undefined>;

export interface LocalViewerDeps {
  did: string;
  handle: string;
  /** The current profile record of the account, if it has one. */
  profile: Json | undefined;
  publicUrl: string;
  appView?: AppViewLookup;
}

type Embed = Json | undefined;

export class LocalViewer {
  readonly #deps: LocalViewerDeps;

  constructor(deps: LocalViewerDeps) {
    this.#deps = deps;
  }

  get did(): string {
    return this.#deps.did;
  }

  get handle(): string {
    return this.#deps.handle;
  }

  get appView(): AppViewLookup | undefined {
    return this.#deps.appView;
  }

  blobUrl(ref: unknown): string | undefined {
    const cid = blobCid(ref);
    return cid === undefined ? undefined : `${this.#deps.publicUrl}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(this.#deps.did)}&cid=${cid}`;
  }

  profileBasic(): Json {
    return withoutUndefined({
      did: this.#deps.did,
      handle: this.#deps.handle,
      displayName: stringOf(this.#deps.profile?.displayName),
      avatar: this.blobUrl(this.#deps.profile?.avatar),
    });
  }

  /** A view with the name and avatar of this profile record (ProfileViewBasic and larger). */
  updateBasic(view: Json, record: Json): Json {
    return withoutUndefined({ ...view, displayName: stringOf(record.displayName), avatar: this.blobUrl(record.avatar) });
  }

  /** ProfileView: plus the description. */
  update(view: Json, record: Json): Json {
    return withoutUndefined({ ...this.updateBasic(view, record), description: stringOf(record.description) });
  }

  /** ProfileViewDetailed: plus the banner. */
  updateDetailed(view: Json, record: Json): Json {
    return withoutUndefined({ ...this.update(view, record), banner: this.blobUrl(record.banner) });
  }

  async postView(post: LocalRecord): Promise<Json> {
    return withoutUndefined({
      uri: post.uri,
      cid: post.cid,
      author: this.profileBasic(),
      record: post.value,
      embed: await this.#embed(post.value.embed),
      // Counts are all zero right after the post was written.
      replyCount: 0,
      repostCount: 0,
      likeCount: 0,
      quoteCount: 0,
      indexedAt: post.indexedAt,
    });
  }

  async #embed(embed: unknown): Promise<Embed> {
    if (!isObject(embed)) return undefined;
    switch (embed.$type) {
      case 'app.bsky.embed.images':
        return this.#images(embed);
      case 'app.bsky.embed.external':
        return this.#external(embed);
      case 'app.bsky.embed.record':
        return this.#record(embed);
      case 'app.bsky.embed.recordWithMedia': {
        const media = isObject(embed.media) ? (embed.media.$type === 'app.bsky.embed.images' ? this.#images(embed.media) : this.#external(embed.media)) : undefined;
        if (!media) return undefined;
        return { $type: 'app.bsky.embed.recordWithMedia#view', record: await this.#record(embed.record), media };
      }
      default:
        return undefined;
    }
  }

  #images(embed: Json): Embed {
    if (!Array.isArray(embed.images)) return undefined;
    const images = embed.images.filter(isObject).map((img) =>
      withoutUndefined({
        thumb: this.blobUrl(img.image),
        fullsize: this.blobUrl(img.image),
        alt: typeof img.alt === 'string' ? img.alt : '',
        aspectRatio: img.aspectRatio,
      }),
    );
    return { $type: 'app.bsky.embed.images#view', images };
  }

  #external(embed: Json): Embed {
    if (!isObject(embed.external)) return undefined;
    const { uri, title, description, thumb } = embed.external;
    return { $type: 'app.bsky.embed.external#view', external: withoutUndefined({ uri, title, description, thumb: this.blobUrl(thumb) }) };
  }

  /** A quoted post, feed or list, as the AppView shows it; not found when it cannot say. */
  async #record(embed: unknown): Promise<Json> {
    const uri = isObject(embed) && isObject(embed.record) && typeof embed.record.uri === 'string' ? embed.record.uri : '';
    const view = await this.#recordView(uri).catch(() => undefined);
    return { $type: 'app.bsky.embed.record#view', record: view ?? { $type: 'app.bsky.embed.record#viewNotFound', uri, notFound: true } };
  }

  async #recordView(uri: string): Promise<Json | undefined> {
    const lookup = this.#deps.appView;
    const collection = uri.split('/')[3];
    if (!lookup || !uri.startsWith('at://')) return undefined;
    if (collection === 'app.bsky.feed.post') {
      const posts = (await lookup('app.bsky.feed.getPosts', { uris: [uri] }))?.posts;
      const post = Array.isArray(posts) && isObject(posts[0]) ? posts[0] : undefined;
      if (!post) return undefined;
      return withoutUndefined({
        $type: 'app.bsky.embed.record#viewRecord',
        uri: post.uri,
        cid: post.cid,
        author: post.author,
        value: post.record,
        labels: post.labels,
        embeds: post.embed ? [post.embed] : undefined,
        indexedAt: post.indexedAt,
      });
    }
    if (collection === 'app.bsky.feed.generator') {
      const view = (await lookup('app.bsky.feed.getFeedGenerator', { feed: uri }))?.view;
      return isObject(view) ? { ...view, $type: 'app.bsky.feed.defs#generatorView' } : undefined;
    }
    if (collection === 'app.bsky.graph.list') {
      const list = (await lookup('app.bsky.graph.getList', { list: uri }))?.list;
      return isObject(list) ? { ...list, $type: 'app.bsky.graph.defs#listView' } : undefined;
    }
    return undefined;
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The CID of a blob reference, in its current (`ref.$link`) or legacy (`cid`) form. */
function blobCid(ref: unknown): string | undefined {
  if (!isObject(ref)) return undefined;
  if (isObject(ref.ref) && typeof ref.ref.$link === 'string') return ref.ref.$link;
  return typeof ref.cid === 'string' ? ref.cid : undefined;
}

function withoutUndefined(view: Json): Json {
  for (const key of Object.keys(view)) if (view[key] === undefined) delete view[key];
  return view;
}
