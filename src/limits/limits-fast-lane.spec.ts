import { ValidationPipe } from '@nestjs/common';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { AccessGuard } from '../auth/access.guard';
import { assertNothingToSkip } from './limits-fast-lane';
import { LimitsController } from './limits.controller';

describe('the limits fast lane', () => {
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const handler = LimitsController.prototype.get;

  it('accepts the limits route as it is: no guard, interceptor or pipe of its own', () => {
    expect(() => assertNothingToSkip()).not.toThrow();
  });

  it.each([
    [GUARDS_METADATA, handler],
    [INTERCEPTORS_METADATA, LimitsController],
  ])(
    'refuses to start when the route gains its own %s, which the lane would skip',
    (key, target) => {
      Reflect.defineMetadata(key, [class Added {}], target);
      try {
        expect(() => assertNothingToSkip()).toThrow(/fast lane would skip it/);
      } finally {
        Reflect.deleteMetadata(key, target);
      }
    },
  );
});

describe('the limits fast lane’s start-up check of what Nest runs around every route', () => {
  const accessGuard = Object.create(AccessGuard.prototype) as AccessGuard;

  it('accepts AccessGuard as the one global guard, with global pipes (they skip @Req)', () => {
    expect(() =>
      assertNothingToSkip({
        guards: [accessGuard],
        interceptors: [],
        pipes: [new ValidationPipe()],
      }),
    ).not.toThrow();
  });

  it.each([
    [
      'another global guard',
      { guards: [accessGuard, new (class RateLimit {})()] },
      /global guard \(RateLimit\)/,
    ],
    [
      'a global interceptor',
      { interceptors: [new (class Metrics {})()] },
      /global interceptor \(Metrics\)/,
    ],
  ])('refuses to start with %s, which the lane would skip', (_, globals, message) => {
    expect(() =>
      assertNothingToSkip({ guards: [accessGuard], interceptors: [], pipes: [], ...globals }),
    ).toThrow(message);
  });

  it('refuses to start when the route gains a parameter that pipes transform', () => {
    const before = Reflect.getMetadata(ROUTE_ARGS_METADATA, LimitsController, 'get') as object;
    Reflect.defineMetadata(
      ROUTE_ARGS_METADATA,
      { ...before, [`${RouteParamtypes.PARAM}:1`]: { index: 1, data: 'id', pipes: [] } },
      LimitsController,
      'get',
    );
    try {
      expect(() =>
        assertNothingToSkip({
          guards: [accessGuard],
          interceptors: [],
          pipes: [new ValidationPipe()],
        }),
      ).toThrow(
        `a parameter (${RouteParamtypes.PARAM}:1) that pipes transform (global: ValidationPipe)`,
      );
    } finally {
      Reflect.defineMetadata(ROUTE_ARGS_METADATA, before, LimitsController, 'get');
    }
  });
});
