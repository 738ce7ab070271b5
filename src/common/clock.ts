import { DynamicModule, Module } from '@nestjs/common';

/**
 * Where every "now" of holds, scheduling and caches comes from, so that a test can run the service
 * on a clock of its own (an option of createApp) instead of waiting for real time to pass.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** Global on purpose: see ConfigModule (the environment every module runs in). */
@Module({})
export class ClockModule {
  static forRoot(clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: ClockModule,
      global: true,
      providers: [{ provide: Clock, useValue: clock }],
      exports: [Clock],
    };
  }
}
