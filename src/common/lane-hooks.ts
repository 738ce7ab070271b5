/**
 * Fastify request hooks that a lane answering ahead of Fastify (the limits fast lane) may
 * bypass, each with what the lane does in its place. A lane checks every hook of the instance
 * when the server starts, and refuses to start on one it does not find here: a hook added later
 * (a header, a check, a log) cannot be silently skipped on the lane's answers.
 */
const bypassable = new WeakMap<object, string>();

/**
 * Declares `hook` bypassable by a lane that does `insteadOnLane` (what the lane does in its
 * place, or why nothing needs doing there); returns the hook, for `addHook`.
 */
export function bypassableByLanes<T extends object>(hook: T, insteadOnLane: string): T {
  bypassable.set(hook, insteadOnLane);
  return hook;
}

/** What a lane does in place of `hook`, if it was declared bypassable; else undefined. */
export function laneInsteadOf(hook: object): string | undefined {
  return bypassable.get(hook);
}

/** The Fastify request hooks a lane answering ahead of Fastify bypasses, by name. */
export const REQUEST_HOOKS = [
  'onRequest',
  'preParsing',
  'preValidation',
  'preHandler',
  'preSerialization',
  'onSend',
  'onResponse',
  'onError',
  'onTimeout',
  'onRequestAbort',
] as const;

/**
 * The request hooks of a Fastify instance (its own, which every route of the root instance
 * runs). Fastify has no public getter for them; a Fastify that moved them fails here, and the
 * lane with it, rather than letting the lane skip what it cannot see.
 */
export function requestHooksOf(fastify: object): Map<string, readonly object[]> {
  const symbol = Object.getOwnPropertySymbols(fastify).find(
    (s) => s.description === 'fastify.hooks',
  );
  const hooks = symbol && (fastify as Record<symbol, Record<string, unknown>>)[symbol];
  const found = new Map<string, readonly object[]>();
  for (const name of REQUEST_HOOKS) {
    const list = hooks?.[name];
    if (!Array.isArray(list)) throw new Error(`Cannot see the ${name} hooks of this Fastify`);
    found.set(name, list as object[]);
  }
  return found;
}

/**
 * The request hooks Nest's FastifyAdapter adds in its constructor (so before any other), as
 * reviewed in @nestjs/platform-fastify 11: four onRequest (Nest's own request hook, CORS, the
 * routable-target check, versioning errors) and one onResponse (Nest's own response hook). Each
 * does nothing unless Nest is told to, which a lane checks; a Nest that adds or drops one shifts
 * the hooks that follow, and the lane refuses to start.
 */
export const NEST_ADAPTER_HOOKS: Readonly<Record<string, number>> = { onRequest: 4, onResponse: 1 };
