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

/** A page may send a stricter policy of its own (the admin page): it is kept. */
export const CSP_HEADER = 'content-security-policy';
