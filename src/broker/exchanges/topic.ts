import type { Binding, RouteSink } from '../binding.js';
import type { Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';
import { emptyArray } from '../../util/empty-array.js';

/**
 * Splits a routing key or binding pattern into words the way RabbitMQ does: the empty string is zero
 * words, and every '.' separates two (possibly empty) words, so "a..b" is ['a', '', 'b'] and "." is two
 * empty words.
 */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

/** A node's '*' and '#' children, kept apart because few nodes have either. */
interface WildChildren {
  star: TopicNode | undefined;
  hash: TopicNode | undefined;
}

/**
 * One trie node. Most nodes of a big trie have one literal child and hold one binding (keys such as
 * "orders.<id>.created"), so each starts as small as it can: the only literal child is kept with its
 * word and a Map is made only for a second one, a single binding is kept without an array, and the
 * wildcard children live in an object of their own. Six fields instead of nine and no one-slot array
 * save about 90 bytes per binding, which is what a million bindings cost.
 */
class TopicNode {
  /** The literal child's word while there is only one (`children` is then that node). */
  private onlyWord: string | undefined = undefined;
  private children: TopicNode | Map<string, TopicNode> | undefined = undefined;
  wild: WildChildren | undefined = undefined;
  private held: Binding | Binding[] | undefined = undefined;
  /** Epoch stamp: already in the state set being built. */
  mark = 0;

  /** A node reached through '#': it may swallow any number of further words and stay where it is. */
  constructor(readonly afterHash: boolean) {}

  get empty(): boolean {
    return this.held === undefined && this.children === undefined && this.wild === undefined;
  }

  get star(): TopicNode | undefined {
    return this.wild?.star;
  }

  get hash(): TopicNode | undefined {
    return this.wild?.hash;
  }

  literalChild(word: string): TopicNode | undefined {
    const children = this.children;
    if (children instanceof Map) return children.get(word);
    return this.onlyWord === word ? children : undefined;
  }

  child(word: string): TopicNode | undefined {
    if (word === '*') return this.star;
    if (word === '#') return this.hash;
    return this.literalChild(word);
  }

  childOrCreate(word: string): TopicNode {
    if (word === '*' || word === '#') return this.wildOrCreate(word);
    const existing = this.literalChild(word);
    if (existing !== undefined) return existing;
    const node = new TopicNode(false);
    const children = this.children;
    if (children === undefined) {
      this.onlyWord = word;
      this.children = node;
    } else if (children instanceof Map) {
      children.set(word, node);
    } else {
      this.children = new Map([[this.onlyWord!, children], [word, node]]);
      this.onlyWord = undefined;
    }
    return node;
  }

  private wildOrCreate(word: '*' | '#'): TopicNode {
    const wild = (this.wild ??= { star: undefined, hash: undefined });
    if (word === '*') return (wild.star ??= new TopicNode(false));
    return (wild.hash ??= new TopicNode(true));
  }

  dropChild(word: string): void {
    if (word === '*' || word === '#') return this.dropWild(word);
    const children = this.children;
    if (children instanceof Map) {
      children.delete(word);
      if (children.size === 0) this.children = undefined;
    } else if (this.onlyWord === word) {
      this.onlyWord = undefined;
      this.children = undefined;
    }
  }

  private dropWild(word: '*' | '#'): void {
    const wild = this.wild;
    if (wild === undefined) return;
    if (word === '*') wild.star = undefined;
    else wild.hash = undefined;
    if (wild.star === undefined && wild.hash === undefined) this.wild = undefined;
  }

  addBinding(binding: Binding): void {
    const held = this.held;
    if (held === undefined) this.held = binding;
    else if (Array.isArray(held)) held.push(binding);
    else this.held = [held, binding];
  }

  /** False when the binding is not here. */
  removeBinding(binding: Binding): boolean {
    const held = this.held;
    if (held === binding) {
      this.held = undefined;
      return true;
    }
    if (!Array.isArray(held)) return false;
    const index = held.indexOf(binding);
    if (index < 0) return false;
    held.splice(index, 1);
    if (held.length === 1) this.held = held[0];
    return true;
  }

  /** Appends the bindings held here. */
  collect(into: Binding[]): void {
    const held = this.held;
    if (held === undefined) return;
    if (Array.isArray(held)) for (let i = 0; i < held.length; i++) into.push(held[i]!);
    else into.push(held);
  }
}

/**
 * A trie of binding patterns, matched by walking the set of trie nodes a key's words can reach (an NFA
 * simulation): cost is O(words × live nodes), never exponential however many '#' a pattern has.
 */
export class TopicTrie {
  private readonly root = new TopicNode(false);
  private epoch = 0;
  private current: TopicNode[] = [];
  private next: TopicNode[] = [];

  add(binding: Binding): void {
    let node = this.root;
    for (const word of topicWords(binding.routingKey)) node = node.childOrCreate(word);
    node.addBinding(binding);
  }

  remove(binding: Binding): void {
    const words = topicWords(binding.routingKey);
    const path: TopicNode[] = [this.root];
    let node: TopicNode | undefined = this.root;
    for (const word of words) {
      node = node.child(word);
      if (node === undefined) return;
      path.push(node);
    }
    if (!node.removeBinding(binding)) return;
    for (let depth = words.length; depth > 0 && path[depth]!.empty; depth--) {
      path[depth - 1]!.dropChild(words[depth - 1]!);
    }
  }

  /** Every binding whose pattern matches, each once. */
  match(routingKey: string): Binding[] {
    const words = topicWords(routingKey);
    let current = this.current;
    let next = this.next;
    emptyArray(current);
    this.epoch++;
    this.enter(this.root, current);
    for (let i = 0; i < words.length && current.length !== 0; i++) {
      const word = words[i]!;
      emptyArray(next);
      this.epoch++;
      for (let s = 0; s < current.length; s++) {
        const node = current[s]!;
        if (node.afterHash) this.enter(node, next);
        const literal = node.literalChild(word);
        if (literal !== undefined) this.enter(literal, next);
        const star = node.wild?.star;
        if (star !== undefined) this.enter(star, next);
      }
      const swap = current;
      current = next;
      next = swap;
    }
    const matched: Binding[] = [];
    for (const node of current) node.collect(matched);
    emptyArray(current);
    emptyArray(next);
    return matched;
  }

  /** Adds a node to the state set, plus what '#' lets it reach without consuming a word. */
  private enter(node: TopicNode, set: TopicNode[]): void {
    while (node.mark !== this.epoch) {
      node.mark = this.epoch;
      set.push(node);
      const hash = node.wild?.hash;
      if (hash === undefined) return;
      node = hash;
    }
  }
}

/** Routing-key results are cached: publishers mostly reuse a few keys, and a Map hit beats a trie walk. */
const CACHE_LIMIT = 4096;

export class TopicRouter implements ExchangeRouter {
  private readonly trie = new TopicTrie();
  private readonly cache = new Map<string, Binding[]>();

  addBinding(binding: Binding): void {
    this.trie.add(binding);
    this.cache.clear();
  }

  removeBinding(binding: Binding): void {
    this.trie.remove(binding);
    this.cache.clear();
  }

  route(message: Message, sink: RouteSink): void {
    this.routeKey(message.routingKey, sink);
  }

  routeKey(key: string, sink: RouteSink): void {
    let matched = this.cache.get(key);
    if (matched === undefined) {
      matched = this.trie.match(key);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, matched);
    }
    for (let i = 0; i < matched.length; i++) sink.add(matched[i]!.destination);
  }
}

export const topicExchangeType: ExchangeType = {
  name: 'topic',
  createRouter: () => new TopicRouter(),
};
