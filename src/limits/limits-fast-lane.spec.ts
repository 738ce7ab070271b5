import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
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
