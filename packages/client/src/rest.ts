import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/openapi';

export type { components, operations, paths } from './generated/openapi';

/** The API's schemas by name, as openapi.json declares them (`Schemas['LimitsDto']`). */
export type Schemas = components['schemas'];

/** A typed client of the whole REST API: `GET`, `POST`, ... on the paths of openapi.json. */
export type RestClient = Client<paths>;

export interface RestClientOptions {
  /** Where the service is, e.g. `https://access.example.com` (the paths start with `/api/v1`). */
  baseUrl: string;
  /** An API key, sent as `X-API-Key`. */
  apiKey?: string;
  /** A staff access token, sent as `Authorization: Bearer`. */
  token?: string;
  /** Instead of the global fetch (tests, proxies, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
}

/**
 * The REST API with types generated from openapi.json by openapi-typescript, over openapi-fetch:
 * paths, parameters, bodies and answers are checked by the compiler.
 *
 * @example
 * const api = createRestClient({ baseUrl, apiKey });
 * const { data, error } = await api.GET('/api/v1/customers/{id}/limits', {
 *   params: { path: { id: customerId } },
 * });
 */
export function createRestClient(options: RestClientOptions): RestClient {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    fetch: options.fetch,
  });
}
