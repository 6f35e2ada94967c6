export { acceptsMimeType, checkBlobConstraints } from './blobs.ts';
export { validateLexiconDoc } from './doc.ts';
export { InvalidDataError, LexiconLoadError } from './errors.ts';
export { LexiconSet } from './lexicon-set.ts';
export type {
  BlobField,
  LexBody,
  LexDef,
  LexiconDocument,
  LexParamsDef,
  MethodKind,
  MethodSchema,
  RecordKeyType,
  RecordValidationResult,
  ValidationResult,
} from './types.ts';
