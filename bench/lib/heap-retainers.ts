/**
 * What holds a V8 heap snapshot's memory: retained sizes from its dominator tree (Cooper, Harvey
 * and Kennedy's iterative algorithm over the snapshot's graph; weak and shortcut edges ignored,
 * as DevTools does), printed largest first with the path of edge names from the root.
 *
 *   node bench/lib/heap-retainers.ts FILE.heapsnapshot [MIN_MB=1] [LINES=40]
 *
 * Used to find where the operator's memory per Integration goes (docs/performance.md); a
 * snapshot comes from the inspector (dev/cluster/inspector.ts `snapshot()`).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** The snapshot as a graph: node i's edges are edges[first[i] .. first[i+1]) in steps of `ef`. */
class Graph {
  readonly count: number;
  readonly first: Int32Array;
  readonly nf: number;
  readonly ef: number;
  readonly #field: (name: string) => number;
  readonly #edgeField: (name: string) => number;

  readonly snap: Snapshot;

  constructor(snap: Snapshot) {
    this.snap = snap;
    const meta = snap.snapshot.meta;
    this.nf = meta.node_fields.length;
    this.ef = meta.edge_fields.length;
    this.#field = (name) => meta.node_fields.indexOf(name);
    this.#edgeField = (name) => meta.edge_fields.indexOf(name);
    this.count = snap.nodes.length / this.nf;
    this.first = new Int32Array(this.count + 1);
    const edgeCount = this.#field('edge_count');
    for (let i = 0, e = 0; i < this.count; i++) {
      this.first[i] = e;
      e += (snap.nodes[i * this.nf + edgeCount] ?? 0) * this.ef;
      this.first[i + 1] = e;
    }
  }

  selfSize(node: number): number {
    return this.snap.nodes[node * this.nf + this.#field('self_size')] ?? 0;
  }

  label(node: number): string {
    const type = this.snap.snapshot.meta.node_types[0][this.snap.nodes[node * this.nf] ?? 0];
    const name = this.snap.strings[this.snap.nodes[node * this.nf + this.#field('name')] ?? 0];
    return `${type}:${String(name).slice(0, 50).replace(/\n/g, ' ')}`;
  }

  /** The strong edges of `node`: [target, edge name]. */
  *edges(node: number): Generator<[number, string]> {
    const types = this.snap.snapshot.meta.edge_types[0];
    const [typeAt, nameAt, toAt] = ['type', 'name_or_index', 'to_node'].map(this.#edgeField);
    for (let e = this.first[node] ?? 0; e < (this.first[node + 1] ?? 0); e += this.ef) {
      const type = types[this.snap.edges[e + (typeAt ?? 0)] ?? 0];
      if (type === 'weak' || type === 'shortcut') continue;
      const raw = this.snap.edges[e + (nameAt ?? 0)] ?? 0;
      const name =
        type === 'element' || type === 'hidden' ? `[${raw}]` : String(this.snap.strings[raw]);
      yield [(this.snap.edges[e + (toAt ?? 0)] ?? 0) / this.nf, name];
    }
  }
}

/** Reverse postorder from the root (node 0): the order the dominator iteration visits. */
function postorder(graph: Graph): { post: number[]; order: Int32Array } {
  const order = new Int32Array(graph.count).fill(-1);
  const post: number[] = [];
  const seen = new Uint8Array(graph.count);
  const stack: [number, Generator<[number, string]>][] = [[0, graph.edges(0)]];
  seen[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    const next = top[1].next();
    if (next.done === true) {
      order[top[0]] = post.length;
      post.push(top[0]);
      stack.pop();
    } else if (seen[next.value[0]] === 0) {
      seen[next.value[0]] = 1;
      stack.push([next.value[0], graph.edges(next.value[0])]);
    }
  }
  return { post, order };
}

/** Immediate dominators (-1: unreachable). */
function dominators(graph: Graph, post: number[], order: Int32Array): Int32Array {
  const preds: number[][] = Array.from({ length: graph.count }, () => []);
  for (const node of post) for (const [to] of graph.edges(node)) preds[to]?.push(node);
  const idom = new Int32Array(graph.count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while ((order[a] ?? 0) < (order[b] ?? 0)) a = idom[a] ?? 0;
      while ((order[b] ?? 0) < (order[a] ?? 0)) b = idom[b] ?? 0;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const node = post[k] ?? 0;
      let candidate = -1;
      for (const pred of preds[node] ?? []) {
        if (idom[pred] === -1) continue;
        candidate = candidate === -1 ? pred : intersect(pred, candidate);
      }
      if (candidate !== -1 && idom[node] !== candidate) {
        idom[node] = candidate;
        changed = true;
      }
    }
  }
  return idom;
}

function main(file: string, minMb: number, lines: number): void {
  const graph = new Graph(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  const { post, order } = postorder(graph);
  const idom = dominators(graph, post, order);
  const retained = new Float64Array(graph.count);
  for (const node of post) retained[node] = (retained[node] ?? 0) + graph.selfSize(node);
  for (const node of post) {
    const owner = idom[node] ?? 0;
    if (node !== 0) retained[owner] = (retained[owner] ?? 0) + (retained[node] ?? 0);
  }
  const edgeName = (from: number, to: number) => {
    for (const [target, name] of graph.edges(from)) if (target === to) return name;
    return '?';
  };
  const path = (node: number) => {
    const parts: string[] = [];
    for (let x = node, k = 0; x !== 0 && k < 8; x = idom[x] ?? 0, k++)
      parts.push(edgeName(idom[x] ?? 0, x));
    return parts.reverse().join(' > ');
  };
  const mb = (bytes: number) => (bytes / 1048576).toFixed(2).padStart(7);
  console.log(`${mb(retained[0] ?? 0)} MB in all`);
  const top = post.filter((n) => (retained[n] ?? 0) >= minMb * 1048576);
  top.sort((a, b) => (retained[b] ?? 0) - (retained[a] ?? 0));
  for (const node of top.slice(0, lines))
    console.log(
      `${mb(retained[node] ?? 0)} ${graph.label(node).padEnd(42)} ${path(node).slice(-150)}`,
    );
}

const [file, minMb = '1', lines = '40'] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/lib/heap-retainers.ts FILE.heapsnapshot [MIN_MB] [LINES]');
  process.exitCode = 64;
} else main(file, Number(minMb), Number(lines));
