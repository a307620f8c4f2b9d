// The lifecycle of one VMA as an xstate statechart: the protocol of the VmaEvents the model reports
// through Kernel.observer (see events.ts). It documents the model (docs/lifecycle.md is generated
// from it by lifecycleMermaid()) and checks it (lifecycleCheck.ts runs every recorded history
// through it). The machine is pure: no side effects, its only action is an assign of the reason
// for a rejection, so it can be run with xstate's pure transition() as well as by an actor.
//
// Rejections: every event sequence that the kernel never produces ends in the final state
// `invalid` (with context.reason); an event after `gone` is rejected because the actor is done
// (gone is a final state of the root: xstate takes no more events), see stepLifecycle().
//
// Events may carry `anonVma`: whether vma->anon_vma was non-NULL when the event was reported (the
// recorder in lifecycleCheck.ts fills it in). With it the chart also checks that its `anon`
// region agrees with the VMA; without it (hand-written histories) only the event order is checked.

import { assign, initialTransition, setup, transition, type AnyStateNode, type SnapshotFrom } from 'xstate';
import type { VmaEvent } from './events.ts';

/** Every VmaEvent, in the order of events.ts. */
export const VMA_EVENTS: readonly VmaEvent[] = [
  'mmap', 'forkCopy', 'splitOff', 'moveCopy', 'split', 'fault', 'unfault', 'expand', 'shrink', 'protect', 'mergedAway', 'unmap',
];

/** Events that start a VMA's history. */
export const CREATION_EVENTS: readonly VmaEvent[] = ['mmap', 'forkCopy', 'splitOff', 'moveCopy'];

/** Events that end a VMA's history (the object is freed). */
export const TERMINAL_EVENTS: readonly VmaEvent[] = ['mergedAway', 'unmap'];

export function isCreationEvent(e: VmaEvent): boolean {
  return e === 'mmap' || e === 'forkCopy' || e === 'splitOff' || e === 'moveCopy';
}

export function isTerminalEvent(e: VmaEvent): boolean {
  return e === 'mergedAway' || e === 'unmap';
}

/** A machine event: a VmaEvent, optionally with vma->anon_vma != NULL at the time it was reported. */
export interface LifecycleEvent {
  type: VmaEvent;
  anonVma?: boolean;
}

export interface LifecycleContext {
  /** Why the history was rejected (set on entering `invalid`), else null. */
  reason: string | null;
}

/** A rejecting transition: to `invalid`, recording the reason. */
function reject(reason: string) {
  return { target: '#vma.invalid', actions: { type: 'reject' as const, params: { reason } } };
}

/**
 * Creation from `unborn`: the origin region records the creating path; a VMA reported with an
 * anon_vma at creation (a copy of a faulted VMA) enters anon.attaching, where 'fault' must follow.
 */
function create(origin: 'fromFork' | 'fromSplit' | 'fromMove') {
  return [
    { guard: 'withAnonVma' as const, target: [`#vma.alive.origin.${origin}`, '#vma.alive.anon.attaching'] },
    { target: `#vma.alive.origin.${origin}` },
  ];
}

/** Transitions of every state of the shape region (the last range change wins). */
const SHAPE_ON = { split: 'split', expand: 'merged', shrink: 'merged' } as const;

const CREATION_ON_ALIVE = 'creation event for a VMA that already exists (the kernel gives every new VMA a new object)';

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
  },
  guards: {
    /** The event reports vma->anon_vma != NULL. */
    withAnonVma: ({ event }) => event.anonVma === true,
    /** vma->anon_vma became non-NULL without a 'fault' (creation events are handled by `alive`). */
    anonVmaWithoutFault: ({ event }) => event.anonVma === true && !isCreationEvent(event.type),
    /** vma->anon_vma became NULL without an 'unfault' (mergedAway/unmap report it already unlinked). */
    anonVmaLostWithoutUnfault: ({ event }) => event.anonVma === false && !isCreationEvent(event.type) && !isTerminalEvent(event.type),
  },
  actions: {
    reject: assign((_, params: { reason: string }) => ({ reason: params.reason })),
  },
}).createMachine({
  id: 'vma',
  description: 'One struct vm_area_struct, from its allocation to vm_area_free().',
  context: { reason: null },
  initial: 'unborn',
  states: {
    unborn: {
      description: 'not allocated yet, no event may come before a creation event',
      on: {
        mmap: [
          { guard: 'withAnonVma', ...reject('__mmap_region() never gives a new VMA an anon_vma') },
          { target: '#vma.alive.origin.fromMmap' },
        ],
        forkCopy: create('fromFork'),
        splitOff: create('fromSplit'),
        moveCopy: create('fromMove'),
        '*': reject('event before the creation event (mmap, forkCopy, splitOff or moveCopy)'),
      },
    },
    alive: {
      type: 'parallel',
      description: 'linked in its mm (maple tree, map_count), visible in /proc/PID/maps',
      on: {
        mmap: reject(CREATION_ON_ALIVE),
        forkCopy: reject(CREATION_ON_ALIVE),
        splitOff: reject(CREATION_ON_ALIVE),
        moveCopy: reject(CREATION_ON_ALIVE),
        mergedAway: { target: '#vma.gone' },
        unmap: { target: '#vma.gone' },
      },
      states: {
        anon: {
          description: 'vma->anon_vma and the anon_vma_chain',
          initial: 'unfaulted',
          states: {
            unfaulted: {
              description: 'vma->anon_vma == NULL and an empty anon_vma_chain (no anonymous folio can map here yet)',
              on: {
                fault: { target: 'faulted' },
                unfault: reject("'unfault' of a VMA that has no anon_vma"),
                '*': { guard: 'anonVmaWithoutFault', ...reject("vma->anon_vma was set without a 'fault' event") },
              },
            },
            attaching: {
              description: 'created as a copy of a faulted VMA, anon_vma set, the fault event must come next',
              on: {
                fault: { target: 'faulted' },
                '*': reject("created with an anon_vma, but the next event was not 'fault'"),
              },
            },
            faulted: {
              description: 'vma->anon_vma != NULL, linked into its anon_vma(s) through the anon_vma_chain',
              on: {
                fault: reject("'fault' of a VMA that already has an anon_vma"),
                unfault: { target: 'unfaulted' },
                '*': { guard: 'anonVmaLostWithoutUnfault', ...reject("vma->anon_vma became NULL without an 'unfault' event") },
              },
            },
          },
        },
        origin: {
          description: 'which kernel path allocated this vm_area_struct (never changes)',
          initial: 'fromMmap',
          states: {
            fromMmap: { description: 'a new VMA of __mmap_region() (no merge possible)' },
            fromFork: { description: 'a child copy made by dup_mmap() (vm_area_dup, anon_vma_fork)' },
            fromSplit: { description: 'the new part of __split_vma()' },
            fromMove: { description: 'the new VMA copy_vma() made at an mremap destination' },
          },
        },
        shape: {
          description: 'what last changed the range [vm_start, vm_end) since creation',
          initial: 'asCreated',
          states: {
            asCreated: { description: 'the range it was created with', on: SHAPE_ON },
            split: { description: '__split_vma() cut a part off (this object kept the rest)', on: SHAPE_ON },
            merged: { description: 'commit_merge() grew it (survivor) or moved its start (adjusted neighbour)', on: SHAPE_ON },
          },
        },
        flags: {
          description: 'vm_flags since creation',
          initial: 'original',
          states: {
            original: { description: 'the flags it was created with', on: { protect: 'changed' } },
            changed: { description: 'mprotect_fixup() or madvise_update_vma() set new flags', on: { protect: 'changed' } },
          },
        },
      },
    },
    gone: {
      type: 'final',
      description: 'unlinked and freed (vm_area_free), the actor is done and takes no more events',
    },
    invalid: {
      type: 'final',
      description: 'rejected, a sequence the kernel never produces (context.reason says why)',
    },
  },
});

export type LifecycleSnapshot = SnapshotFrom<typeof lifecycleMachine>;

/** The snapshot before any event (state `unborn`). */
export function lifecycleInitial(): LifecycleSnapshot {
  return initialTransition(lifecycleMachine)[0];
}

/** Outcome of one event: the next snapshot, or why the event is rejected. */
export interface LifecycleStep {
  snapshot: LifecycleSnapshot;
  /** null when the event is accepted. */
  rejected: string | null;
}

/**
 * Apply one event with xstate's pure transition(). An event to a done actor (gone or invalid) is
 * rejected: xstate would ignore it silently.
 */
export function stepLifecycle(snapshot: LifecycleSnapshot, event: LifecycleEvent): LifecycleStep {
  if (snapshot.status !== 'active') {
    const reason = snapshot.value === 'gone'
      ? 'event after the VMA was freed (mergedAway or unmap ended its history)'
      : `event after the history was already rejected (${snapshot.context.reason ?? 'invalid'})`;
    return { snapshot, rejected: reason };
  }
  const [next] = transition(lifecycleMachine, snapshot, event);
  if (next.value === 'invalid') return { snapshot: next, rejected: next.context.reason ?? 'rejected' };
  return { snapshot: next, rejected: null };
}

/** The anon region's state, or null outside `alive`. */
export function anonState(snapshot: LifecycleSnapshot): 'unfaulted' | 'attaching' | 'faulted' | null {
  const v = snapshot.value;
  if (typeof v === 'string') return null;
  return v.alive.anon;
}

/** "unborn", "gone", or "alive (anon: faulted, origin: fromFork, shape: split, flags: original)". */
export function describeLifecycleState(snapshot: LifecycleSnapshot): string {
  const v = snapshot.value;
  if (typeof v === 'string') return v;
  const a = v.alive;
  return `alive (anon: ${a.anon}, origin: ${a.origin}, shape: ${a.shape}, flags: ${a.flags})`;
}

// ---- Mermaid rendering (docs/lifecycle.md) ----

interface Edge {
  /** Node whose block holds the edge. */
  container: AnyStateNode;
  from: string;
  to: string;
  /** The real source when the edge is drawn from one of its ancestors, e.g. "anon.faulted". */
  within: string;
  labels: string[];
}

function ancestry(n: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  for (let p: AnyStateNode | undefined = n; p !== undefined; p = p.parent) out.unshift(p);
  return out;
}

/** Deepest node that is a proper ancestor of both a and b (the block an a-to-b edge is drawn in). */
function edgeContainer(a: AnyStateNode, b: AnyStateNode): AnyStateNode {
  const pa = ancestry(a);
  const pb = ancestry(b);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  // pa[i-1] is the deepest common ancestor-or-self; an edge needs a proper ancestor of both.
  const common = pa[i - 1]!;
  return common === a || common === b ? common.parent ?? common : common;
}

/** The child of `container` on the path to n (n itself if it is a child). */
function childOn(container: AnyStateNode, n: AnyStateNode): AnyStateNode {
  const p = ancestry(n);
  return p[p.indexOf(container) + 1]!;
}

function relPath(from: AnyStateNode, to: AnyStateNode): string {
  return to.path.slice(from.path.length).join('.');
}

function guardName(g: unknown): string | null {
  if (g === undefined || g === null) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && 'type' in g && typeof (g as { type: unknown }).type === 'string') return (g as { type: string }).type;
  return 'guard';
}

/** Every node of the machine, document order. */
function allNodes(root: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [root];
  for (const c of Object.values(root.states) as AnyStateNode[]) out.push(...allNodes(c));
  return out;
}

function addEdge(edges: Edge[], container: AnyStateNode, from: string, to: string, within: string, label: string): void {
  const e = edges.find((x) => x.container === container && x.from === from && x.to === to && x.within === within);
  if (e === undefined) edges.push({ container, from, to, within, labels: [label] });
  else if (!e.labels.includes(label)) e.labels.push(label);
}

/** "e [g]" next to an unguarded "e" on the same edge says nothing more: drop it. */
function edgeLabel(e: Edge): string {
  const labels = e.labels.filter((l) => {
    const m = /^(.*) \[[^\]]*\]$/.exec(l);
    return m === null || !e.labels.includes(m[1]!);
  });
  return labels.join(', ') + (e.within === '' ? '' : ` (in ${e.within})`);
}

/**
 * The statechart as a Mermaid stateDiagram-v2, generated from lifecycleMachine: atomic states with
 * their descriptions, parallel regions separated by "--", one edge per (source, target) with the
 * events (and guards in brackets) as its label. An edge out of a region is drawn from the region's
 * top composite state with "(in anon.faulted)" naming the real source; a transition that enters
 * nested states is drawn to the composite plus a labelled start edge inside each region it picks.
 */
export function lifecycleMermaid(): string {
  const root = lifecycleMachine.root as AnyStateNode;
  const edges: Edge[] = [];
  for (const node of allNodes(root)) {
    for (const ts of node.transitions.values()) {
      for (const t of ts) {
        const event = t.eventType === '*' ? 'any other event' : t.eventType;
        const g = guardName(t.guard);
        const targets: AnyStateNode[] = t.target === undefined || t.target.length === 0 ? [node] : [...t.target];
        const container = edgeContainer(node, targets[0]!);
        const from = childOn(container, node);
        const to = childOn(container, targets[0]!);
        const nested = targets.some((x) => x !== to);
        const within = from === node ? '' : relPath(from, node);
        addEdge(edges, container, from.key, to.key, within, `${event}${g !== null && !nested ? ` [${g}]` : ''}`);
        for (const x of targets) {
          if (x === to || x.parent === undefined) continue;
          addEdge(edges, x.parent, '[*]', x.key, '', `${event}${g !== null ? ` [${g}]` : ''}`);
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const n of allNodes(root)) {
    if (n === root) continue;
    if (seen.has(n.key)) throw new Error(`lifecycleMermaid: state name ${n.key} is used twice`);
    seen.add(n.key);
  }

  const out: string[] = ['stateDiagram-v2'];
  const emitBlock = (node: AnyStateNode, indent: string): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    const own = edges.filter((e) => e.container === node);
    if (node.type === 'parallel') {
      children.forEach((c, i) => {
        if (i > 0) out.push(`${indent}--`);
        emitState(c, indent);
      });
    } else {
      const initial = node.initial?.target[0] as AnyStateNode | undefined;
      if (initial !== undefined && !own.some((e) => e.from === '[*]' && e.to === initial.key)) out.push(`${indent}[*] --> ${initial.key}`);
      for (const c of children) emitState(c, indent);
    }
    for (const e of own) out.push(`${indent}${e.from} --> ${e.to} : ${edgeLabel(e)}`);
    for (const c of children) if (c.type === 'final') out.push(`${indent}${c.key} --> [*]`);
  };
  const emitState = (n: AnyStateNode, indent: string): void => {
    if (n.type === 'compound' || n.type === 'parallel') {
      if (n.description !== undefined) out.push(`${indent}%% ${n.key} - ${n.description}`);
      out.push(`${indent}state ${n.key} {`);
      emitBlock(n, `${indent}  `);
      out.push(`${indent}}`);
    } else {
      out.push(n.description !== undefined ? `${indent}${n.key} : ${n.description}` : `${indent}${n.key}`);
    }
  };
  emitBlock(root, '  ');
  return `${out.join('\n')}\n`;
}
