import type { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { ValidationFailedError } from './errors';
import { canonicalUuid, createValidationPipe, isUuid } from './validation';

describe('canonicalUuid', () => {
  const id = '0108d358-5b2e-4c1a-9f3e-a1b2c3d4e5f6';

  it('gives a uuid in any letter case in lower case', () => {
    expect(canonicalUuid(id.toUpperCase())).toBe(id);
    expect(canonicalUuid('0108D358-5b2E-4C1a-9F3e-A1b2C3d4E5f6')).toBe(id);
    expect(canonicalUuid(id)).toBe(id);
  });

  it('leaves anything that is not a uuid as it is, for the validators to refuse', () => {
    for (const value of [
      'NOT-A-UUID',
      `${id.toUpperCase()}X`,
      ` ${id.toUpperCase()}`,
      '',
      42,
      null,
    ]) {
      expect(canonicalUuid(value)).toBe(value);
    }
    expect(isUuid(canonicalUuid('NOT-A-UUID'))).toBe(false);
  });
});

describe('the validation pipe, given an empty object', () => {
  let checks = 0;
  @ValidatorConstraint({ name: 'countedPositive' })
  class CountedPositive implements ValidatorConstraintInterface {
    validate(value: unknown): boolean {
      checks += 1;
      return typeof value === 'number' && value > 0;
    }
  }

  class PageWithDefault {
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Validate(CountedPositive)
    limit = 20;

    @IsOptional()
    @IsString()
    cursor?: string;
  }

  class NeedsName {
    @IsString()
    name!: string;
  }

  const pipe = createValidationPipe();
  const asQuery = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
    type: 'query',
    metatype,
  });
  const fieldsOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (refused: unknown) => refused,
    );
    expect(error).toBeInstanceOf(ValidationFailedError);
    return (error as ValidationFailedError).errors;
  };

  beforeEach(() => {
    checks = 0;
  });

  it('validates it once per class, then answers a fresh instance of the class each time', async () => {
    const first = await pipe.transform({}, asQuery(PageWithDefault));
    const second = await pipe.transform(Object.create(null), asQuery(PageWithDefault));
    const third = await pipe.transform({}, { type: 'body', metatype: PageWithDefault });
    expect(checks).toBe(1);
    for (const page of [first, second, third]) {
      expect(page).toBeInstanceOf(PageWithDefault);
      expect({ ...(page as PageWithDefault) }).toEqual({ ...new PageWithDefault() });
    }
    expect(second).not.toBe(first);
    expect(third).not.toBe(second);
  });

  it('still validates whatever is not empty, by the same rules', async () => {
    await pipe.transform({}, asQuery(PageWithDefault));
    checks = 0;
    expect(await fieldsOf(pipe.transform({ limit: '0' }, asQuery(PageWithDefault)))).toEqual([
      { field: 'limit', message: expect.any(String) },
    ]);
    expect(await fieldsOf(pipe.transform({ other: 'x' }, asQuery(PageWithDefault)))).toEqual([
      { field: 'other', message: 'is not allowed' },
    ]);
    const page = (await pipe.transform(
      { limit: '5' },
      asQuery(PageWithDefault),
    )) as PageWithDefault;
    expect(page.limit).toBe(5);
    expect(checks).toBe(3);
  });

  it('refuses it every time for a class it does not satisfy, naming the fields', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await fieldsOf(pipe.transform({}, { type: 'body', metatype: NeedsName }))).toEqual([
        { field: 'name', message: 'name must be a string' },
      ]);
    }
  });
});
