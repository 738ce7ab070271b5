import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ResponseObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  PROBLEM_DESCRIPTIONS,
  PROBLEM_DETAILS_SCHEMA,
  problemCodesOf,
  problemResponse,
} from '../common/api-problem-responses';
import { ERROR_CODES, ERROR_CODES_BY_MODULE } from './error-codes';
import { ProblemDetailsDto } from './problem-details.dto';

const SRC = join(__dirname, '..');
/** Where @nestjs/swagger keeps the decorators' metadata (its constants are not exported). */
const API_RESPONSE = 'swagger/apiResponse';
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const declared = new Set<string>(ERROR_CODES);

describe('the error code registry', () => {
  it('has each code declared by one module only', () => {
    const owners = new Map<string, string[]>();
    for (const [module, codes] of Object.entries(ERROR_CODES_BY_MODULE)) {
      for (const code of codes) owners.set(code, [...(owners.get(code) ?? []), module]);
    }
    const twice = [...owners].filter(([, modules]) => modules.length > 1);
    expect(twice).toEqual([]);
    expect(ERROR_CODES.length).toBe(owners.size);
  });

  it('composes every list of codes a module declares (every *_ERROR_CODES export)', async () => {
    const composed = new Set<unknown>(Object.values(ERROR_CODES_BY_MODULE));
    const lists: { name: string; list: unknown }[] = [];
    for (const file of sourceFiles()) {
      for (const [, name] of readFileSync(file, 'utf8').matchAll(
        /^export const (\w+_ERROR_CODES)\b/gm,
      )) {
        const exported = (await import(file)) as Record<string, unknown>;
        lists.push({ name: `${relative(SRC, file)}: ${name}`, list: exported[name] });
      }
    }
    expect(lists.length).toBeGreaterThanOrEqual(composed.size);
    expect(lists.filter(({ list }) => !composed.has(list)).map(({ name }) => name)).toEqual([]);
  });

  it('declares every code a source file raises or answers with', () => {
    // The code given first to an error's constructor, to `super` or to a problem's builder.
    const raised =
      /\b(?:super|\w+Error|problemOf|problem)(?:<[^>]*>)?\(\s*(?:\d+,\s*)?'([a-z]+(?:_[a-z]+)*)'/g;
    const undeclared: string[] = [];
    let found = 0;
    for (const file of sourceFiles()) {
      for (const match of readFileSync(file, 'utf8').matchAll(raised)) {
        found += 1;
        if (!declared.has(match[1])) undeclared.push(`${relative(SRC, file)}: ${match[1]}`);
      }
    }
    expect(found).toBeGreaterThan(10);
    expect(undeclared).toEqual([]);
  });

  it('declares every code that an @ApiProblemResponses description names in backticks', async () => {
    const documented: { where: string; codes: string[] }[] = [];
    const collect = (where: string, responses: Record<string, ResponseObject> | undefined) => {
      for (const [status, response] of Object.entries(responses ?? {})) {
        const codes = problemCodesOf(response);
        if (codes) documented.push({ where: `${where} ${status}`, codes });
      }
    };
    for (const file of sourceFiles().filter((f) => f.endsWith('.controller.ts'))) {
      for (const value of Object.values((await import(file)) as Record<string, unknown>)) {
        if (typeof value !== 'function') continue;
        const controller = value as { name: string; prototype: Record<string, unknown> };
        collect(controller.name, Reflect.getMetadata(API_RESPONSE, controller));
        for (const method of Object.getOwnPropertyNames(controller.prototype)) {
          const handler = controller.prototype[method];
          if (typeof handler !== 'function') continue;
          collect(`${controller.name}.${method}`, Reflect.getMetadata(API_RESPONSE, handler));
        }
      }
    }
    for (const [status, description] of Object.entries(PROBLEM_DESCRIPTIONS)) {
      collect('PROBLEM_DESCRIPTIONS', { [status]: problemResponse(description) });
    }
    expect(documented.length).toBeGreaterThan(50);
    const undeclared = documented.flatMap(({ where, codes }) =>
      codes.filter((code) => !declared.has(code)).map((code) => `${where}: ${code}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('is the enum of the problem details schema that problem responses refer to by name', () => {
    expect(ProblemDetailsDto.name).toBe(PROBLEM_DETAILS_SCHEMA);
    const code = Reflect.getMetadata(API_MODEL_PROPERTIES, ProblemDetailsDto.prototype, 'code') as {
      enum: string[];
      enumName: string;
    };
    expect(code).toMatchObject({ enum: ERROR_CODES, enumName: 'ErrorCode' });
  });
});
