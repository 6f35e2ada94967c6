import { GENERIC_ERROR_NAMES } from './errors.ts';
import { buildParamsCoercer, type ParamsCoercer } from './params.ts';
import type {
  Authorizer,
  AuthVerifier,
  Handler,
  MethodDef,
  MethodKind,
  MethodSchema,
  RateLimitSpec,
  SchemaSource,
  StringFormatValidators,
  SubscriptionHandler,
} from './types.ts';

export interface RegistryOptions<Auth> {
  schemas: SchemaSource;
  formats: StringFormatValidators;
  /** Auth verifiers by name; method definitions refer to them by name. `none` is built in. */
  verifiers: Record<string, AuthVerifier<Auth>>;
  /** Body limit for JSON procedures that set none of their own. */
  defaultJsonLimit: number;
  /** Error names the verifiers may answer with, declared for every method (they run before any handler). */
  authErrorNames?: Iterable<string>;
}

/** Everything the controller needs about one method, built once at registration. */
export interface MethodEntry<Ctx, Auth> {
  readonly nsid: string;
  readonly kind: MethodKind;
  readonly schema: MethodSchema;
  readonly authName: string;
  readonly auth: AuthVerifier<Auth>;
  readonly authorize: Authorizer<Auth> | undefined;
  readonly coerceParams: ParamsCoercer;
  /** Declared input encoding of a procedure, lower case (a wildcard type accepts anything). */
  readonly inputEncoding: string | undefined;
  readonly inputIsJson: boolean;
  readonly outputEncoding: string | undefined;
  readonly outputIsJson: boolean;
  readonly hasInputSchema: boolean;
  readonly hasOutputSchema: boolean;
  readonly bodyLimit: number | ((ctx: Ctx) => number);
  /** Error names this method may emit: the generic ones, its Lexicon's and its definition's. */
  readonly declaredErrors: ReadonlySet<string>;
  readonly rateLimits: readonly RateLimitSpec<Ctx>[];
  readonly handler: Handler<Ctx, Auth> | undefined;
  readonly subscription: SubscriptionHandler<Ctx, Auth> | undefined;
  readonly forwardWhenProxiedElsewhere: boolean;
}

const allowAnyone: AuthVerifier<never> = () => undefined as never;

/** The method table: one entry per NSID, looked up with a single map access per request. */
export class Registry<Ctx, Auth> {
  readonly #methods = new Map<string, MethodEntry<Ctx, Auth>>();
  readonly #options: RegistryOptions<Auth>;
  readonly #authErrorNames: readonly string[];

  constructor(options: RegistryOptions<Auth>) {
    this.#options = options;
    this.#authErrorNames = [...(options.authErrorNames ?? [])];
  }

  add(def: MethodDef<Ctx, Auth>): this {
    if (this.#methods.has(def.nsid)) throw new Error(`method ${def.nsid} is registered twice`);
    const schema = def.schema ?? this.#options.schemas.getMethod(def.nsid);
    if (!schema) throw new Error(`no Lexicon document defines method ${def.nsid}`);
    if (schema.kind === 'subscription' ? !def.subscription : !def.handler) {
      throw new Error(`method ${def.nsid} is a ${schema.kind} and needs a ${schema.kind === 'subscription' ? 'subscription' : 'handler'} function`);
    }
    const auth = this.#options.verifiers[def.auth] ?? (def.auth === 'none' ? (allowAnyone as AuthVerifier<Auth>) : undefined);
    if (!auth) throw new Error(`method ${def.nsid} uses unknown auth verifier "${def.auth}"`);
    const inputEncoding = schema.input?.encoding.toLowerCase();
    const outputEncoding = schema.output?.encoding.toLowerCase();
    this.#methods.set(def.nsid, {
      nsid: def.nsid,
      kind: schema.kind,
      schema,
      authName: def.auth,
      auth,
      authorize: def.authorize,
      coerceParams: buildParamsCoercer(schema.params, this.#options.formats),
      inputEncoding,
      inputIsJson: inputEncoding === 'application/json',
      outputEncoding,
      outputIsJson: outputEncoding === 'application/json',
      hasInputSchema: schema.input?.schema !== undefined,
      hasOutputSchema: schema.output?.schema !== undefined,
      bodyLimit: def.maxBodyBytes ?? this.#options.defaultJsonLimit,
      declaredErrors: new Set([...GENERIC_ERROR_NAMES, ...this.#authErrorNames, ...schema.errors, ...(def.errors ?? [])]),
      rateLimits: def.rateLimits ?? [],
      handler: def.handler,
      subscription: def.subscription,
      forwardWhenProxiedElsewhere: def.forwardWhenProxiedElsewhere ?? false,
    });
    return this;
  }

  addAll(defs: Iterable<MethodDef<Ctx, Auth>>): this {
    for (const def of defs) this.add(def);
    return this;
  }

  get(nsid: string): MethodEntry<Ctx, Auth> | undefined {
    return this.#methods.get(nsid);
  }

  /** A verifier by name, for requests that reach no method of the table (forwarded ones). */
  verifier(name: string): AuthVerifier<Auth> | undefined {
    return this.#options.verifiers[name];
  }

  list(): MethodEntry<Ctx, Auth>[] {
    return [...this.#methods.values()];
  }
}
