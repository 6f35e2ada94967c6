/** Errors of the record write and read paths; the API layer maps them to XRPC errors. */
export class RepoWriteError extends Error {
  constructor(
    readonly code:
      | 'InvalidRecord'
      | 'InvalidRecordKey'
      | 'InvalidCollection'
      | 'InvalidSwap'
      | 'RecordExists'
      | 'RecordNotFound'
      | 'RepoNotFound'
      | 'RecordTooLarge'
      | 'TooManyWrites'
      | 'RepoDeactivated'
      | 'RepoTakendown',
    message: string,
  ) {
    super(message);
  }
}
