import type { Binding, RouteSink } from '../binding.js';
import type { Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';

/**
 * Splits a routing key or binding pattern into words the way RabbitMQ does: the empty string is zero
 * words, and every '.' separates two (possibly empty) words, so "a..b" is ['a', '', 'b'] and "." is two
 * empty words.
 */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

/**
 * One trie node. Most nodes of a big trie have one literal child and hold one binding (keys such as
 * "orders.<id>.created"), so both start small: the first literal child is kept in two fields and a Map
 * is made only for a second one, and the bindings array is made with its first binding (an empty array
 * grows to 17 slots on its first push). Memory per binding is what a million bindings cost.
 */
class TopicNode {
  /** The only literal child while there is one (`literal` is then undefined). */
  onlyWord: string | undefined = undefined;
  onlyChild: TopicNode | undefined = undefined;
  /** Literal children once there are two or more. */
  literal: Map<string, TopicNode> | undefined = undefined;
  star: TopicNode | undefined = undefined;
  hash: TopicNode | undefined = undefined;
  bindings: Binding[] | undefined = undefined;
  /** Epoch stamp: already in the state set being built. */
  mark = 0;

  /** A node reached through '#': it may swallow any number of further words and stay where it is. */
  constructor(readonly afterHash: boolean) {}

  get empty(): boolean {
    return this.bindings === undefined && this.onlyChild === undefined && this.literal === undefined &&
      this.star === undefined && this.hash === undefined;
  }

  literalChild(word: string): TopicNode | undefined {
    return this.onlyWord === word ? this.onlyChild : this.literal?.get(word);
  }

  child(word: string): TopicNode | undefined {
    if (word === '*') return this.star;
    if (word === '#') return this.hash;
    return this.literalChild(word);
  }

  childOrCreate(word: string): TopicNode {
    if (word === '*') return (this.star ??= new TopicNode(false));
    if (word === '#') return (this.hash ??= new TopicNode(true));
    const existing = this.literalChild(word);
    if (existing !== undefined) return existing;
    const node = new TopicNode(false);
    if (this.onlyChild === undefined && this.literal === undefined) {
      this.onlyWord = word;
      this.onlyChild = node;
      return node;
    }
    if (this.literal === undefined) {
      this.literal = new Map([[this.onlyWord!, this.onlyChild!]]);
      this.onlyWord = undefined;
      this.onlyChild = undefined;
    }
    this.literal.set(word, node);
    return node;
  }

  dropChild(word: string): void {
    if (word === '*') this.star = undefined;
    else if (word === '#') this.hash = undefined;
    else if (this.onlyWord === word) {
      this.onlyWord = undefined;
      this.onlyChild = undefined;
    } else if (this.literal !== undefined) {
      this.literal.delete(word);
      if (this.literal.size === 0) this.literal = undefined;
    }
  }

  addBinding(binding: Binding): void {
    if (this.bindings === undefined) this.bindings = [binding];
    else this.bindings.push(binding);
  }

  /** False when the binding is not here. */
  removeBinding(binding: Binding): boolean {
    const index = this.bindings?.indexOf(binding) ?? -1;
    if (index < 0) return false;
    this.bindings!.splice(index, 1);
    if (this.bindings!.length === 0) this.bindings = undefined;
    return true;
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
    current.length = 0;
    this.epoch++;
    this.enter(this.root, current);
    for (let i = 0; i < words.length && current.length !== 0; i++) {
      const word = words[i]!;
      next.length = 0;
      this.epoch++;
      for (let s = 0; s < current.length; s++) {
        const node = current[s]!;
        if (node.afterHash) this.enter(node, next);
        const literal = node.literalChild(word);
        if (literal !== undefined) this.enter(literal, next);
        if (node.star !== undefined) this.enter(node.star, next);
      }
      const swap = current;
      current = next;
      next = swap;
    }
    const matched: Binding[] = [];
    for (const node of current) for (const binding of node.bindings ?? []) matched.push(binding);
    current.length = 0;
    next.length = 0;
    return matched;
  }

  /** Adds a node to the state set, plus what '#' lets it reach without consuming a word. */
  private enter(node: TopicNode, set: TopicNode[]): void {
    while (node.mark !== this.epoch) {
      node.mark = this.epoch;
      set.push(node);
      if (node.hash === undefined) return;
      node = node.hash;
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
