import autocannon from 'autocannon';
import { hubspotEvent, signedHubspotRequest } from '../../../src/integrations/hubspot/fixtures.ts';

export interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
}

let nextEventId = 1_000_000;

/**
 * Signed HubSpot deliveries, each with its own event id (so none is a duplicate), spread over
 * `deals` deals. Signed now: HubSpot's v3 timestamp is only accepted for 5 minutes.
 */
export function signHubspotDeliveries(count: number, deals = 500): Delivery[] {
  const now = Date.now();
  const stages = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent'];
  return Array.from({ length: count }, () => {
    const eventId = nextEventId++;
    const raw = signedHubspotRequest({
      body: [hubspotEvent({ eventId, objectId: 70_000 + (eventId % deals), propertyName: 'dealstage', propertyValue: stages[eventId % stages.length], occurredAt: now - 1000 })],
      timestamp: now,
    });
    const headers = Object.fromEntries(Object.entries(raw.headers).filter((e): e is [string, string] => e[1] !== undefined));
    return { headers, body: raw.rawBody };
  });
}

export interface LoadResult {
  /** Mean 2xx answers per second over the run. */
  okPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  /** Deliveries reused because the pool ran out (duplicates, cheaper for Momentum). */
  reused: number;
}

/** One autocannon run against `url + path`, each request taking the next delivery of the pool. */
export async function loadTest(options: { url: string; path: string; pool: Delivery[]; connections: number; durationS: number; overallRate?: number }): Promise<LoadResult> {
  let index = 0;
  let reused = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    timeout: 10,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path: options.path,
        setupRequest: (request) => {
          if (index >= options.pool.length) reused += 1;
          const delivery = options.pool[index++ % options.pool.length]!;
          return { ...request, method: 'POST', path: options.path, headers: delivery.headers, body: delivery.body };
        },
      },
    ],
  });
  return {
    okPerSecond: result['2xx'] / result.duration,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    reused,
  };
}
