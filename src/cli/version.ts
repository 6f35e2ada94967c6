import { readFileSync } from 'node:fs';
import type { CliCommand } from './command.ts';

// The same relative path from src/cli/ and from dist/cli/.
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

export function packageVersion(): string {
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
}

export const version: CliCommand = {
  name: 'version',
  summary: 'print the Squall and Node.js versions',
  run({ io }) {
    io.out(`squall ${packageVersion()} (Node.js ${process.version})\n`);
  },
};
