// The delivery metrics: a counter by outcome and code, a histogram of duration and one of event age (a retry backlog shows there).
import type { Counter, Histogram, MeterProvider } from '@opentelemetry/api';
import type { DeliveryChannelMessage } from '../../delivery/channel.js';
import { metricAttributes } from './attributes.js';

/** The instruments one installation records into. */
export interface DeliveryMetrics {
  record(message: DeliveryChannelMessage, now: number): void;
  /** Counts one failure of an OpenTelemetry component (the tracer, a span, the meter, the context manager). */
  countObserverError(kind: string): void;
}

/** Creates the instruments on `meterProvider`'s `kompliant-webhooks` meter. */
export function createDeliveryMetrics(meterProvider: MeterProvider): DeliveryMetrics {
  const meter = meterProvider.getMeter('kompliant-webhooks');
  const deliveries: Counter = meter.createCounter('kompliant.webhook.deliveries', {
    description: 'Webhook deliveries, by outcome and error code',
    unit: '{delivery}',
  });
  const duration: Histogram = meter.createHistogram('kompliant.webhook.duration', {
    description: 'Time from receiving a delivery to its answer',
    unit: 's',
  });
  const eventAge: Histogram = meter.createHistogram('kompliant.webhook.event_age', {
    description: "Age of a delivered event (now minus its timestamp): grows with the sender's retries",
    unit: 's',
  });
  const observerErrors: Counter = meter.createCounter('kompliant.webhook.observer_errors', {
    description: 'Calls into OpenTelemetry (tracer, span, meter, context manager) that threw; ignored, deliveries are unchanged',
    unit: '{error}',
  });
  return {
    countObserverError(kind) {
      observerErrors.add(1, { 'messaging.system': 'kompliant', 'kompliant.observer': kind });
    },
    record(message, now) {
      const attributes = metricAttributes(message);
      deliveries.add(1, attributes);
      duration.record(Math.max(0, now - message.startTime) / 1000, attributes);
      if (message.event !== undefined) {
        const sent = Date.parse(message.event.timestamp);
        if (Number.isFinite(sent)) eventAge.record(Math.max(0, now - sent) / 1000, attributes);
      }
    },
  };
}
