/** Environment variables through which the global setup tells each test file where to go. */
export const TEST_ENV = {
  serverUrl: 'CA_TEST_SERVER_URL',
  template: 'CA_TEST_TEMPLATE',
  embeddedUrl: 'CA_TEST_EMBEDDED_URL',
  /** The DML-only role test apps connect as (PostgreSQL server only). */
  runtimeRole: 'CA_TEST_RUNTIME_ROLE',
} as const;

/** True when the run is on the embedded engine (no LISTEN/NOTIFY between connections). */
export const onEmbeddedDatabase = (): boolean => Boolean(process.env[TEST_ENV.embeddedUrl]);
