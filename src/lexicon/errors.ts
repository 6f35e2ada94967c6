/** A value that is not valid atproto data (a float, a malformed `$link`, blob or `$bytes`...). */
export class InvalidDataError extends Error {
  /** Keys and indexes from the root to the offending value. */
  readonly path: Array<string | number>;

  constructor(message: string, path: Array<string | number>) {
    super(message);
    this.name = 'InvalidDataError';
    this.path = path;
  }
}

/** Lexicon documents that cannot be loaded: invalid, duplicated or unreadable. */
export class LexiconLoadError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid Lexicon documents:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  (${problems.length - 20} more)` : ''}`);
    this.name = 'LexiconLoadError';
    this.problems = problems;
  }
}

/** Formats a path the way @atproto/lexicon does, so every message reads alike: `Record/embed/images/0`. */
export function formatPath(root: string, path: ReadonlyArray<string | number>): string {
  return path.length === 0 ? root : `${root}/${path.join('/')}`;
}
