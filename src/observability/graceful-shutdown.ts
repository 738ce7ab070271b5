import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config';
import { Metrics } from './metrics';
import { OperationsLog } from './operations-log';
import { Readiness } from './readiness';

/** What createApp keeps for the shutdown: the requests under way. */
export interface RequestCounter {
  inFlight: number;
}

const counters = new WeakMap<NestFastifyApplication, RequestCounter>();

export function trackRequests(app: NestFastifyApplication, counter: RequestCounter): void {
  counters.set(app, counter);
}

/**
 * A graceful stop: readiness answers 503 at once, for SHUTDOWN_DRAIN_MS, so that the load
 * balancer takes this instance out while it still serves; then the server stops accepting,
 * the requests in flight finish (later ones on open connections get 503), the workers stop and
 * hand their unsent deliveries back to the queue; one log line says what was drained.
 */
export async function shutDownGracefully(
  app: NestFastifyApplication,
  config: Pick<AppConfig, 'shutdownDrainMs'>,
  signal: string,
): Promise<void> {
  const log = app.get(OperationsLog);
  const metrics = app.get(Metrics);
  const started = Date.now();
  app.get(Readiness).startDraining();
  log.root.info(
    { event: 'shutdown.draining', signal, drain_ms: config.shutdownDrainMs },
    `${signal}: readiness answers 503; stopping in ${config.shutdownDrainMs} ms`,
  );
  if (config.shutdownDrainMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
  }
  const inFlight = counters.get(app)?.inFlight ?? 0;
  const handedBack = async (kind: string) =>
    (await metrics.outboxHandedBack.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
  const [webhooksBefore, emailsBefore] = [await handedBack('webhook'), await handedBack('email')];
  await app.close();
  log.shutdown({
    signal,
    drain_ms: config.shutdownDrainMs,
    requests_in_flight: inFlight,
    webhooks_handed_back: (await handedBack('webhook')) - webhooksBefore,
    emails_handed_back: (await handedBack('email')) - emailsBefore,
    duration_ms: Date.now() - started,
  });
}
