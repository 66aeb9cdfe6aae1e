/**
 * What the source simulators (Stripe, Shopify, generic) share: their datasets, and the
 * `/__control/dataset` route that mutates them from another process (updates, growth, malformed
 * records, schema drift).
 */
import { z } from 'zod';
import { Dataset, malformedKinds, type DatasetOptions } from './dataset.ts';
import {
  ControlError,
  json,
  parseJsonBody,
  SimulatorServer,
  type SimRequest,
  type SimResponse,
  type SimulatorOptions,
} from './server.ts';

/** Options of every source simulator. */
export interface ProviderOptions extends SimulatorOptions {
  /** Records per resource when `datasets` is not given. Default 100. */
  records?: number;
  /** Resources served when `datasets` is not given. Default `['customers']`. */
  resources?: string[];
  /** The datasets to serve (keyed by their resource); default one per resource from `seed`. */
  datasets?: Dataset[];
}

const index = z.number().int().nonnegative();

/** A change to a dataset, as `POST /__control/dataset` accepts it. */
export const datasetChangeSchema = z.strictObject({
  /** Default: the first resource. */
  resource: z.string().optional(),
  /** Indexes of records to update (version + 1, newer updated_at). */
  update: z.array(index).optional(),
  /** updated_at of those updates, Unix seconds; default after every timestamp so far. */
  updateAt: z.number().int().optional(),
  /** Appends this many new records. */
  grow: z.number().int().positive().optional(),
  /** Makes records malformed. */
  malformed: z.strictObject({ indexes: z.array(index), kind: z.enum(malformedKinds) }).optional(),
  /** Makes every record well-formed again (applied before `malformed`). */
  clearMalformed: z.boolean().optional(),
  /** Schema drift: field → value added to every record (null: a per-record generated value). */
  addFields: z.record(z.string(), z.unknown()).optional(),
  /** Schema drift: fields removed from every record. */
  removeFields: z.array(z.string()).optional(),
});

/** A change to a dataset; see {@link datasetChangeSchema}. */
export type DatasetChange = z.infer<typeof datasetChangeSchema>;

/** A dataset as `GET /__control/dataset` reports it. */
export interface DatasetSummary {
  resource: string;
  size: number;
  validCount: number;
  malformed: { index: number; id: string | number; kind: string }[];
  drift: { added: string[]; removed: string[] };
}

/** A simulator serving datasets. */
export abstract class ProviderSimulator extends SimulatorServer {
  readonly #datasets = new Map<string, Dataset>();

  /** `defaults` shape generated datasets (e.g. numeric ids for Shopify). */
  constructor(options: ProviderOptions, defaults: Partial<DatasetOptions> = {}) {
    super(options);
    const datasets =
      options.datasets ??
      (options.resources ?? ['customers']).map(
        (resource) =>
          new Dataset({
            ...defaults,
            resource,
            count: options.records ?? 100,
            seed: this.seed,
          }),
      );
    for (const dataset of datasets) this.#datasets.set(dataset.resource, dataset);
  }

  /** The dataset of `resource` (default the first); mutate it to change what is served. */
  dataset(resource?: string): Dataset {
    const dataset =
      resource === undefined ? this.#datasets.values().next().value : this.#datasets.get(resource);
    if (dataset === undefined) throw new ControlError(404, `no resource ${resource ?? ''}`);
    return dataset;
  }

  /** The resources served, in the order given. */
  resources(): string[] {
    return [...this.#datasets.keys()];
  }

  /** The dataset serving `resource`, if any. */
  protected findDataset(resource: string): Dataset | undefined {
    return this.#datasets.get(resource);
  }

  /** Applies a change (validated) to a dataset; returns its summary. */
  changeDataset(change: unknown): DatasetSummary {
    const parsed = datasetChangeSchema.parse(change);
    const dataset = this.dataset(parsed.resource);
    if (parsed.grow !== undefined) dataset.grow(parsed.grow);
    if (parsed.update !== undefined) dataset.update(parsed.update, parsed.updateAt);
    if (parsed.clearMalformed === true) dataset.clearMalformed();
    if (parsed.malformed !== undefined)
      dataset.setMalformed(parsed.malformed.indexes, parsed.malformed.kind);
    for (const [name, value] of Object.entries(parsed.addFields ?? {}))
      dataset.addField(name, value ?? undefined);
    for (const name of parsed.removeFields ?? []) dataset.removeField(name);
    return summarize(dataset);
  }

  protected override control(req: SimRequest, name: string): SimResponse | undefined {
    if (name !== 'dataset') return undefined;
    if (req.method === 'POST') return json(200, this.changeDataset(parseJsonBody(req) ?? {}));
    if (req.method === 'GET') {
      return json(200, { datasets: [...this.#datasets.values()].map(summarize) });
    }
    throw new ControlError(405, `${req.method} not allowed on /__control/dataset`);
  }
}

function summarize(dataset: Dataset): DatasetSummary {
  const malformed = dataset.malformed();
  return {
    resource: dataset.resource,
    size: dataset.size,
    validCount: dataset.size - malformed.length,
    malformed,
    drift: dataset.drift(),
  };
}

/** Parses an optional positive integer query parameter within `[1, max]`; throws a 400 otherwise. */
export function limitParam(
  params: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max)
    throw new ControlError(400, `${name} must be an integer between 1 and ${max}, got ${raw}`);
  return value;
}

/** Encodes an opaque cursor (base64url JSON). */
export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor} with `schema`; throws a 400 when it is invalid. */
export function decodeCursor<T>(raw: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch {
    throw new ControlError(400, `invalid cursor ${raw}`);
  }
}
