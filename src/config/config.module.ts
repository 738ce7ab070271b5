import { DynamicModule, Global, Inject, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Injects the validated configuration. */
export const InjectConfig = (): ParameterDecorator => Inject(APP_CONFIG);

/**
 * Global on purpose, like ClockModule: the configuration and the clock are the environment every
 * module runs in, given once per app by AppModule.forRoot (tests pass their own); importing them
 * in each module would hide nothing and add a line to each. Services still declare them in their
 * constructors (@InjectConfig(), Clock), so the dependency stays visible where it is used.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
