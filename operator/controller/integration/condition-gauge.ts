/**
 * `tributary_integration_condition`: for each Integration and condition type, one series per
 * status (True, False, Unknown), 1 for the current status and 0 for the others — the shape of
 * kube-state-metrics' condition gauges. The series are made when scraped, from one small array
 * of status codes per Integration: a prom-client Gauge would keep 3 label objects, 3 values and
 * 3 serialized keys per type (42 series, ~12 KB of heap per Integration).
 */
import type { Metric } from 'prom-client';
import { ConditionType, type Condition } from '../../api/index.ts';
import { joinKey } from '../../lib/key.ts';

const STATUSES = ['True', 'False', 'Unknown'] as const;
/** One series as prom-client's Registry reads it. */
interface Series {
  labels: { namespace: string; name: string; type: string; status: string };
  value: number;
}

/** One Integration's condition statuses: an index into STATUSES + 1 per type, 0 when absent. */
interface Row {
  namespace: string;
  name: string;
  codes: Uint8Array;
}

/** The condition gauge, registered on a prom-client Registry like any other metric. */
export class ConditionGauge {
  readonly name = 'tributary_integration_condition';
  readonly help =
    'Conditions of each Integration: 1 for the current status of each type, 0 otherwise.';
  readonly type = 'gauge';
  readonly labelNames = ['namespace', 'name', 'type', 'status'] as const;
  readonly aggregator = 'sum';
  /** Every type ever seen, the built-in ones first: the columns of each row. */
  readonly #types: string[] = Object.values(ConditionType);
  readonly #rows = new Map<string, Row>();

  /** Sets the statuses of one Integration's conditions (types absent get all three at 0). */
  set(namespace: string, name: string, conditions: readonly Condition[]): void {
    for (const { type } of conditions) if (!this.#types.includes(type)) this.#types.push(type);
    const codes = new Uint8Array(this.#types.length);
    for (const { type, status } of conditions) {
      codes[this.#types.indexOf(type)] = STATUSES.indexOf(status) + 1;
    }
    this.#rows.set(joinKey(namespace, name), { namespace, name, codes });
  }

  /** Drops the series of one Integration. */
  remove(namespace: string, name: string): void {
    this.#rows.delete(joinKey(namespace, name));
  }

  /** Drops every series. */
  reset(): void {
    this.#rows.clear();
  }

  /** The series, made now (what a Registry calls on a scrape). */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Series[];
  }> {
    const values: Series[] = [];
    const builtIn = Object.values(ConditionType).length;
    for (const { namespace, name, codes } of this.#rows.values()) {
      for (let column = 0; column < Math.max(codes.length, builtIn); column++) {
        // Built-in types always; others only where this Integration has them.
        if (column >= builtIn && !codes[column]) continue;
        const type = this.#types[column] ?? '';
        for (const [index, status] of STATUSES.entries()) {
          const value = codes[column] === index + 1 ? 1 : 0;
          values.push({ labels: { namespace, name, type, status }, value });
        }
      }
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** This collector as prom-client's Registry.registerMetric takes it. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
