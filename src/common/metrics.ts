// Prometheus metrics (prom-client) for tracker, broadcaster and viewers. Values are read from
// the components' own stats at scrape time, so the hot paths carry no metric code.

import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export type MetricValues = Record<string, number | undefined>;

export interface MetricSpec {
  name: string;
  help: string;
  /** Reads the current value; undefined leaves the metric out of this scrape. */
  read: () => number | undefined;
}

/** A registry with the process metrics and one gauge per spec, read on every scrape. */
export function createMetrics(prefix: string, specs: MetricSpec[]): { registry: Registry; render(): Promise<string> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `${prefix}_` });
  for (const spec of specs) {
    new Gauge({
      name: `${prefix}_${spec.name}`,
      help: spec.help,
      registers: [registry],
      collect() {
        const v = spec.read();
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  }
  return { registry, render: () => registry.metrics() };
}
