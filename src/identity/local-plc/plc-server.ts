import type { AddressInfo } from 'node:net';
import type { Logger } from '../../logger.ts';
import type { LocalPlcDirectory } from './plc-directory.ts';
import { createPlcHttpServer } from './plc-http.ts';

export interface LocalPlcServer {
  /** `http://localhost:<port>`: what clients (the official resolver included) are pointed at. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens with the built-in directory on its own port, at the root (the official clients want it there). */
export async function startLocalPlcServer(directory: LocalPlcDirectory, opts: { port: number; host: string; log: Logger }): Promise<LocalPlcServer> {
  const server = createPlcHttpServer(directory, (err) => opts.log.error({ err }, 'unexpected error in the built-in PLC directory'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`the built-in PLC directory cannot listen on port ${opts.port} (in use): set PDS_LOCAL_PLC_PORT`, { cause: err }) : err),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
