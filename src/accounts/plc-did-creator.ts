import type { Keypair } from '../crypto/index.ts';
import type { PlcClient } from '../identity/plc-client.ts';
import { createGenesisOperation } from '../identity/plc-operation.ts';
import type { DidCreator } from './create-account.ts';

/**
 * New accounts get a did:plc: a genesis operation listing the server's rotation key, the
 * account's signing key, its handle and this PDS, signed with the rotation key and submitted
 * to the directory.
 */
export class PlcDidCreator implements DidCreator {
  constructor(
    private readonly plc: PlcClient,
    private readonly rotationKey: Keypair,
  ) {}

  async createDid(input: { signingKeyDid: string; handle: string; pdsUrl: string }): Promise<string> {
    const { did, operation } = await createGenesisOperation(
      { rotationKeys: [this.rotationKey.did()], signingKey: input.signingKeyDid, handle: input.handle, pdsEndpoint: input.pdsUrl },
      this.rotationKey,
    );
    await this.plc.submitOperation(did, operation);
    return did;
  }
}
