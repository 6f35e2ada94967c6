// Loaded with NODE_OPTIONS="--import <this file>" into every Node.js process of a walkthrough, so
// "offline" is checked without a network namespace (which needs user namespaces a CI machine may
// not allow): a TCP connection to anything but loopback is refused before any DNS lookup, and the
// refusal is written to stderr, where the test looks for it. Plain JavaScript: the machine's own
// Node.js (running npm) loads it too.
import net from 'node:net';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;
const connect = net.Socket.prototype.connect;

/** The host of any of the shapes Socket#connect accepts, or undefined for a local socket path. */
function targetOf(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') return first.path ? undefined : { host: first.host ?? 'localhost', port: first.port };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return undefined; // a pipe path
  return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: first };
}

net.Socket.prototype.connect = function (...args) {
  const target = targetOf(args);
  if (target === undefined || LOOPBACK.test(String(target.host))) return connect.apply(this, args);
  process.stderr.write(`offline guard: refused a connection to ${target.host}:${target.port} from ${process.argv.slice(1).join(' ')}\n`);
  const error = Object.assign(new Error(`offline guard: ${target.host} is not loopback`), { code: 'ENETUNREACH' });
  process.nextTick(() => this.destroy(error));
  return this;
};
