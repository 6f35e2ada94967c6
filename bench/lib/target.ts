// A server under test, whichever implementation it is.

export interface Target {
  /** Short name used in tables: "Squall" or "reference". */
  label: string;
  /** What exactly ran, e.g. "Squall 0.1.0 (a1b2c3d) on node v20.20.2". */
  description: string;
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  /** The server process whose CPU is measured. */
  pid: number;
  /** The did:plc directory the server uses, when the benchmark started one for it. */
  plcUrl?: string;
  stop(): Promise<void>;
}
