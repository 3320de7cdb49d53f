import 'reflect-metadata';
import { metrics } from '@opentelemetry/api';
import type { CompatServiceDefinition, Server } from 'nice-grpc';
import { container, type DependencyContainer } from 'tsyringe';
import type { Order } from '../gen/causeway/v1/checkout';
import type { CheckoutServiceName } from '../platform/config';
import { GrpcClients } from '../platform/grpc';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER, type Logger } from '../platform/logger';
import { systemTime, TIME } from '../platform/time';
import { OrderArrivals } from './order-arrivals';
import { OrderCache } from './order-cache';
import type { ParticipantConfig } from './config';
import { ORDER_ARRIVALS, ORDER_CACHE } from './tokens';

/**
 * What the three checkout services' composition roots share: config, logger,
 * clock, the order cache with its expiry sweeper, clients to the other
 * services, and hosting. Each main.ts adds its own classes and starts.
 */
export class ParticipantRoot {
  readonly logger: Logger;
  readonly container: DependencyContainer = container;
  private readonly clients: GrpcClients;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly name: CheckoutServiceName,
    private readonly config: ParticipantConfig,
  ) {
    this.logger = createLogger(name, this.config.logLevel);
    this.clients = new GrpcClients(this.config.rpcDeadlineMs);
    const orders = new OrderCache<Order>(name, this.config.orderTtlMs);
    container.register(LOGGER, { useValue: this.logger });
    container.register(TIME, { useValue: systemTime });
    container.register(ORDER_CACHE, { useValue: orders });
    container.register(ORDER_ARRIVALS, { useValue: new OrderArrivals(orders, this.config.orderArrivalWaitMs) });
    // checkout_orders_cached: orders initialised here and not yet cleared (or expired), read when exported.
    metrics
      .getMeter('causeway.checkout')
      .createObservableGauge('checkout.orders.cached', { unit: '{order}', description: 'Orders this service holds between init and the final clock' })
      .addCallback((result) => result.observe(orders.size));
    this.sweeper = setInterval(
      () => {
        const dropped = orders.sweep(systemTime.now());
        if (dropped > 0) this.logger.warn(`forgot ${dropped} orders never cleared within ${this.config.orderTtlMs} ms`);
      },
      Math.min(this.config.orderTtlMs, 10_000),
    );
    this.sweeper.unref();
  }

  /** A client to another checkout service (host:port), closed on shutdown. */
  client<Service extends CompatServiceDefinition>(definition: Service, address: string) {
    return this.clients.connect(definition, address);
  }

  start(register: (server: Server) => void) {
    return hostGrpcService({
      name: this.name,
      host: this.config.host,
      port: this.config.port,
      logger: this.logger,
      register,
      onShutdown: () => {
        clearInterval(this.sweeper);
        this.clients.close();
      },
    });
  }
}
