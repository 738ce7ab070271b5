import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../src/openapi/error-codes';
import { buildOpenApiDocument } from '../../src/openapi/openapi';
import { API_PREFIX } from '../../src/setup-app';
import { listRoutes } from '../support/routes';
import { startTestApp, TestApp } from '../support/test-app';

const CHECKED_IN = join(__dirname, '..', '..', 'openapi.json');

/**
 * openapi.json is the contract clients generate code from: it must be exactly what the code
 * serves at /docs-json. `npm run openapi:write` rewrites it (this test with OPENAPI_WRITE=1).
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('openapi.json', () => {
  it('is in step with the code', () => {
    const current = `${JSON.stringify(buildOpenApiDocument(t.app), null, 2)}\n`;
    if (process.env.OPENAPI_WRITE === '1') writeFileSync(CHECKED_IN, current);
    let checkedIn = '';
    try {
      checkedIn = readFileSync(CHECKED_IN, 'utf8');
    } catch {
      // a missing file fails below like a stale one
    }
    if (checkedIn !== current) {
      throw new Error(
        'openapi.json differs from the code: run `npm run openapi:write` and review the diff.',
      );
    }
  });

  it('documents problem details for every error answer and a security scheme for every guarded route', () => {
    const document = JSON.parse(readFileSync(CHECKED_IN, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: object }>; security?: object[] }>
      >;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400) {
            expect({
              [`${method} ${path} ${status}`]: Object.keys(response.content ?? {}),
            }).toEqual({
              [`${method} ${path} ${status}`]: ['application/problem+json'],
            });
          }
        }
        if (!path.startsWith('/health') && path !== '/api/v1/auth/login') {
          expect({ [`${method} ${path}`]: (operation.security ?? []).length > 0 }).toEqual({
            [`${method} ${path}`]: true,
          });
        }
      }
    }
  });
});

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
}
interface Response {
  description: string;
  headers?: Record<string, { $ref: string }>;
  content?: Record<string, { schema: Schema }>;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: string;
  schema: Schema;
}
interface Operation {
  description?: string;
  parameters: Parameter[];
  requestBody?: object;
  responses: Record<string, Response>;
  security?: object[];
  'x-required-role'?: string;
  'x-api-keys'?: string[];
}
interface Document {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers: object; parameters: object };
}

/** What the contract must say, read from the checked-in file that clients get. */
describe('openapi.json says everything the service does', () => {
  const document = JSON.parse(readFileSync(CHECKED_IN, 'utf8')) as Document;
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );
  const problemCodes = (response: Response) =>
    response.content?.['application/problem+json']?.schema.allOf?.[1].properties?.code.enum;

  it('has every error code in the ErrorCode enum the problem schema uses, and each response lists its codes', () => {
    expect(document.components.schemas.ErrorCode.enum).toEqual([...ERROR_CODES]);
    expect(document.components.schemas.ProblemDetailsDto.properties?.code.allOf).toEqual([
      { $ref: '#/components/schemas/ErrorCode' },
    ]);
    for (const { name, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const codes = problemCodes(response) ?? [];
        expect({ [`${name} ${status}`]: codes.length > 0 }).toEqual({
          [`${name} ${status}`]: true,
        });
        for (const code of codes) {
          expect(ERROR_CODES).toContain(code);
          expect(response.description).toContain(`\`${code}\``);
        }
      }
    }
  });

  it('declares 400 for any input, 413 and 415 for a body, 500 and 503 everywhere', () => {
    const missing: string[] = [];
    for (const { name, operation } of operations) {
      const hasInput =
        operation.requestBody !== undefined ||
        operation.parameters.some((p) => p.in === 'path' || p.in === 'query');
      const expected: Record<string, string> = {
        '500': 'internal_error',
        '503': 'service_unavailable',
      };
      if (hasInput) expected['400'] = 'validation_failed';
      if (operation.requestBody) {
        expected['413'] = 'payload_too_large';
        expected['415'] = 'unsupported_media_type';
      }
      for (const [status, code] of Object.entries(expected)) {
        const response = operation.responses[status];
        if (!response || !problemCodes(response)?.includes(code)) missing.push(`${name} ${status}`);
      }
    }
    expect(missing).toEqual([]);
    expect(problemCodes(document.paths['/health/ready'].get.responses['503'])).toEqual([
      'service_unavailable',
    ]);
  });

  it('documents X-Request-Id on every request and response, Retry-After on 429 and 503, WWW-Authenticate on 401', () => {
    const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
    for (const { name, operation } of operations) {
      expect({ [name]: operation.parameters }).toEqual({
        [name]: expect.arrayContaining([{ $ref: '#/components/parameters/RequestId' }]),
      });
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = response.headers ?? {};
        const where = `${name} ${status}`;
        expect({ [where]: headers['X-Request-Id'] }).toEqual({ [where]: ref('X-Request-Id') });
        if (status === '429' || status === '503') {
          expect({ [where]: headers['Retry-After'] }).toEqual({ [where]: ref('Retry-After') });
        }
        if (status === '401' && problemCodes(response)?.includes('unauthenticated')) {
          expect({ [where]: headers['WWW-Authenticate'] }).toEqual({
            [where]: ref('WWW-Authenticate'),
          });
        }
      }
    }
    expect(document.paths['/api/v1/auth/login'].post.responses['429'].headers).toHaveProperty(
      'Retry-After',
    );
  });

  it('gives every {id} parameter format uuid', () => {
    const ids = operations.flatMap(({ name, operation }) =>
      operation.parameters
        .filter((p) => p.in === 'path' && p.name === 'id')
        .map((p) => `${name} ${p.schema.format}`),
    );
    expect(ids.length).toBeGreaterThanOrEqual(15);
    expect(ids.filter((id) => !id.endsWith(' uuid'))).toEqual([]);
  });

  it('states the bounds the validators enforce', () => {
    const { schemas } = document.components;
    const limits = operations.flatMap(({ operation }) =>
      operation.parameters.filter((p) => p.in === 'query' && p.name === 'limit'),
    );
    expect(limits.length).toBeGreaterThan(5);
    for (const limit of limits) {
      expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    }
    const cursor = operations
      .flatMap(({ operation }) => operation.parameters)
      .find((p) => p.name === 'cursor');
    expect(cursor?.schema).toMatchObject({ maxLength: 500 });
    expect(schemas.DisableCustomerDto.properties?.reason).toMatchObject({ maxLength: 1000 });
    expect(schemas.EnableCustomerDto.properties?.reason).toMatchObject({ maxLength: 1000 });
    expect(schemas.CreateCustomerDto.properties?.email).toMatchObject({
      format: 'email',
      maxLength: 320,
    });
    expect(schemas.CreateUserDto.properties?.password).toMatchObject({ minLength: 12 });
    expect(schemas.CreatePlanDto.properties?.amount).toMatchObject({ type: 'integer', minimum: 0 });
    expect(schemas.CreateNoteDto.properties?.body).toMatchObject({ minLength: 1, maxLength: 5000 });
  });

  it('says which role each operation needs, as the guards read it, and marks public ones', () => {
    const routes = listRoutes(t.app, API_PREFIX, ['health', 'health/ready']);
    expect(routes.length).toBe(operations.length);
    for (const { route, access } of routes) {
      const [method, url] = route.split(' ');
      const operation = document.paths[url.replace(/:(\w+)/g, '{$1}')][method.toLowerCase()];
      if (access === 'public') {
        expect({ [route]: operation.security }).toEqual({ [route]: [] });
        expect(operation.description).toContain('Public: needs no credentials.');
        expect(operation['x-required-role']).toBeUndefined();
      } else if (access.startsWith('no-staff+')) {
        expect({ [route]: operation['x-required-role'] }).toEqual({ [route]: undefined });
        expect({ [route]: operation.security }).toEqual({ [route]: [{ api_key: [] }] });
        expect(operation.description).toContain('Platform API keys only');
        expect(operation['x-api-keys']).toEqual(['platform']);
      } else {
        const [role, keys] = access.split('+');
        expect({ [route]: operation['x-required-role'] }).toEqual({ [route]: role });
        expect(operation.description).toContain(`Requires staff role \`${role}\` or higher.`);
        expect(operation['x-api-keys']).toEqual(
          keys === 'no-keys'
            ? []
            : keys === 'platform'
              ? ['platform']
              : ['platform', 'own_customer'],
        );
      }
    }
  });

  it('has a server, and passes Redocly’s recommended rules with no error', () => {
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const lint = spawnSync(
      join(__dirname, '..', '..', 'node_modules', '.bin', 'redocly'),
      ['lint', 'openapi.json', '--format', 'summary'],
      {
        cwd: join(__dirname, '..', '..'),
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    expect({
      status: lint.status,
      output: lint.status === 0 ? '' : lint.stdout + lint.stderr,
    }).toEqual({
      status: 0,
      output: '',
    });
  });
});
