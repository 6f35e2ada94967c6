import { AtpAgent } from '@atproto/api';

/** A new account `<name>.test` on the server at `service`, signed in through the official client. */
export async function newAccountAgent(service: string, name: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service });
  await agent.createAccount({ handle: `${name}.test`, email: `${name}@example.com`, password: `${name}-password-1` });
  return agent;
}

/** Polls `check` every 25 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
