import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { HelmetOptions } from 'helmet';

/**
 * What helmet sets, with these choices: no framing at all (the API and /docs have no reason to be
 * framed); a CSP that Swagger UI at /docs works under (its scripts are files of its own, but it
 * uses inline styles and data: images); no `upgrade-insecure-requests` and no HSTS, because TLS
 * ends at the proxy in front of the service and plain HTTP must keep working behind it and in
 * development (HSTS is the proxy's header: README).
 */
const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'base-uri': ["'none'"],
      'connect-src': ["'self'"],
      'font-src': ["'self'", 'data:'],
      'frame-ancestors': ["'none'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'upgrade-insecure-requests': null,
    },
  },
  xFrameOptions: { action: 'deny' },
  strictTransportSecurity: false,
};

/**
 * The headers helmet sets, computed once. @fastify/helmet 13.2 builds a new helmet middleware
 * on every request (a cost comparable to a whole limits check: bench/RESULTS.md, "Earlier
 * measurements"), and
 * its headers never vary here: so they are recorded once and set by the one `onSend` hook the
 * service already has.
 */
function recordHelmetHeaders(): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number) =>
      headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmet(OPTIONS)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return [...headers];
}

export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = recordHelmetHeaders();

/**
 * The headers of a route that answers JSON to programs only (the limits check, which a backend
 * asks on every request of its own), in place of SECURITY_HEADERS: those of the OWASP REST
 * Security Cheat Sheet ("Security headers"), HSTS excepted (the TLS proxy's, as for every
 * answer). helmet's others are for documents a browser renders or embeds: a JSON answer runs no
 * script and loads nothing (`default-src 'none'`), and it can only be had with an `X-API-Key`
 * header, which a cross-origin page cannot send without CORS (the service allows none), so the
 * Referrer-Policy, Cross-Origin-* and legacy browser headers guard nothing there (README,
 * "Using the API"). Each header is work on every answer of the hottest route.
 */
export const API_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['cache-control', 'no-store'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
];

/** Fastify route config flag: the route's answers carry API_HEADERS, not SECURITY_HEADERS. */
export const API_HEADERS_ONLY = 'apiHeadersOnly';

/** A page may send a stricter policy of its own (the admin page): it is kept. */
export const CSP_HEADER = 'content-security-policy';
