// The steps of a README walkthrough, taken from the README itself so a test can run exactly
// what a reader is told to do. A section is delimited by its `## ` heading; its fenced blocks are
// steps in order. The fence's info string says what the block is (GitHub renders by the first
// word and ignores the rest): `sh` commands to run to completion, `sh server` a command that keeps
// running (the reader's first terminal), `sh watch` a command the reader watches and stops,
// `sh install` the checkout and install, and `<lang> file=NAME` a file the reader saves.
import { readFileSync } from 'node:fs';

export type ReadmeStep =
  | { kind: 'run' | 'server' | 'watch' | 'install'; commands: string[] }
  | { kind: 'file'; name: string; content: string };

export function readmeSection(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README has no "## ${heading}" section`);
  const rest = readme.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  return end === -1 ? rest : rest.slice(0, end + 1);
}

export function readmeSteps(section: string): ReadmeStep[] {
  const steps: ReadmeStep[] = [];
  const fence = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of section.matchAll(fence)) {
    const [lang, ...words] = match[1].trim().split(/\s+/);
    const body = match[2];
    const file = words.find((w) => w.startsWith('file='));
    if (file) {
      steps.push({ kind: 'file', name: file.slice('file='.length), content: body });
      continue;
    }
    if (lang !== 'sh') throw new Error(`a \`${lang}\` block in the walkthrough is neither a command nor a file`);
    const kind = (words[0] ?? 'run') as 'run' | 'server' | 'watch' | 'install';
    if (!['run', 'server', 'watch', 'install'].includes(kind)) throw new Error(`unknown step kind "${kind}"`);
    const commands = body
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    steps.push({ kind, commands });
  }
  return steps;
}

export function readReadmeSteps(readmePath: string, heading: string): ReadmeStep[] {
  return readmeSteps(readmeSection(readFileSync(readmePath, 'utf8'), heading));
}
