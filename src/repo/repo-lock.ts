/**
 * Serialises work per repository: writes to one repo run one after another (each sees the
 * commit the previous one made), writes to different repos run concurrently.
 */
export class RepoLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(did: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(did) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.#tails.set(did, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(did) === tail) this.#tails.delete(did);
    }
  }
}
