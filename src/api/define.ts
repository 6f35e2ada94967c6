import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { MethodDef } from '../xrpc/index.ts';

export type AppMethod = MethodDef<AppContext, AuthState>;

/** Identity function that gives a method definition its types. */
export function defineMethod(def: AppMethod): AppMethod {
  return def;
}
