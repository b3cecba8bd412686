import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicWords } from '../../../src/broker/exchanges/topic.js';
import { seededRandom } from '../../../src/util/prng.js';
import { declareExchange, declareQueue, message, reached, startedVhost } from './fakes.js';

/** Obviously-correct (exponential) matcher over RabbitMQ's word semantics, to check the trie against. */
function referenceMatch(pattern: readonly string[], key: readonly string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') {
    for (let skip = 0; skip <= key.length; skip++) if (referenceMatch(rest, key.slice(skip))) return true;
    return false;
  }
  if (key.length === 0) return false;
  return (head === '*' || head === key[0]) && referenceMatch(rest, key.slice(1));
}

function randomKey(next: () => number, words: readonly string[], maxWords: number): string {
  const count = Math.floor(next() * (maxWords + 1));
  if (count === 0) return '';
  return Array.from({ length: count }, () => words[Math.floor(next() * words.length)]!).join('.');
}

test('topicWords: empty key is zero words, every dot separates possibly empty words', () => {
  assert.deepEqual(topicWords(''), []);
  assert.deepEqual(topicWords('a'), ['a']);
  assert.deepEqual(topicWords('a..b'), ['a', '', 'b']);
  assert.deepEqual(topicWords('.'), ['', '']);
  assert.deepEqual(topicWords('a.'), ['a', '']);
});

async function topicSetup(patterns: readonly string[]) {
  const { broker, vhost } = await startedVhost();
  declareExchange(vhost, 't', 'topic');
  const names = patterns.map((_, i) => `q${i}`);
  patterns.forEach((pattern, i) => {
    declareQueue(vhost, names[i]!);
    vhost.bindQueue(names[i]!, 't', pattern, {}, { name: 'x' });
  });
  return { broker, vhost, names };
}

const edgeCases: [pattern: string, key: string, expected: boolean][] = [
  ['#', '', true],
  ['#', 'a.b.c', true],
  ['*', '', false],
  ['*', 'a', true],
  ['*', '.', false],
  ['*.*', '.', true],
  ['', '', true],
  ['', 'a', false],
  ['a.#', 'a', true],
  ['a.#', 'a.b.c', true],
  ['#.a', 'a', true],
  ['#.a', 'x.y.a', true],
  ['#.a', 'a.x', false],
  ['a.#.b', 'a.b', true],
  ['a.#.b', 'a.x.y.b', true],
  ['a.#.b', 'a.x.y.c', false],
  ['#.#', '', true],
  ['#.#', 'a.b', true],
  ['a.*.b', 'a..b', true],
  ['a..b', 'a..b', true],
  ['a..b', 'a.b', false],
  ['a.*', 'a.', true],
  ['a.*', 'a', false],
  ['*.#', '', false],
  ['*.#', 'a', true],
  ['#.*', 'a.b', true],
  ['a.b', 'a.b', true],
  ['a.b', 'a.b.c', false],
];

test('topic exchange edge cases: empty words, # at start/middle/end, #.#, * versus empty word', async () => {
  const { broker, vhost, names } = await topicSetup(edgeCases.map(([pattern]) => pattern));
  try {
    edgeCases.forEach(([pattern, key, expected], i) => {
      assert.equal(referenceMatch(topicWords(pattern), topicWords(key)), expected, `reference: '${pattern}' vs '${key}'`);
      vhost.publish(message('t', key));
      const hit = reached(vhost, names).includes(names[i]!);
      assert.equal(hit, expected, `'${pattern}' vs '${key}'`);
    });
  } finally {
    await broker.stop();
  }
});

test('topic exchange agrees with the reference matcher on random patterns and keys, before and after unbinds', async () => {
  const next = seededRandom(0x5eed);
  const patternWords = ['a', 'b', '', '*', '#'];
  const keyWords = ['a', 'b', 'c', ''];
  const distinct = Array.from({ length: 90 }, () => randomKey(next, patternWords, 5));
  // Some patterns bound by several queues, so trie nodes hold one, two or three bindings.
  const patterns = [...distinct, ...distinct.slice(0, 30).map((_, i) => distinct[i % 15]!)];
  const { broker, vhost, names } = await topicSetup(patterns);
  const live = new Set(names.map((_, i) => i));
  const check = (round: string) => {
    for (let k = 0; k < 300; k++) {
      const key = randomKey(next, keyWords, 6);
      const expected = [...live]
        .filter((i) => referenceMatch(topicWords(patterns[i]!), topicWords(key)))
        .map((i) => names[i]!)
        .sort();
      const outcome = vhost.publish(message('t', key));
      const got = reached(vhost, names).sort();
      assert.deepEqual(got, expected, `${round}: key '${key}'`);
      assert.equal(outcome.routed, expected.length);
    }
  };
  try {
    check('all bound');
    for (let i = 0; i < patterns.length; i += 2) {
      vhost.unbindQueue(names[i]!, 't', patterns[i]!, {}, { name: 'x' });
      live.delete(i);
    }
    check('half unbound');
    // Nodes go from several bindings to one to none and are pruned; then patterns come back to them.
    for (let i = 1; i < patterns.length - 12; i += 2) {
      vhost.unbindQueue(names[i]!, 't', patterns[i]!, {}, { name: 'x' });
      live.delete(i);
    }
    check('a few left');
    for (let i = 0; i < patterns.length; i += 4) {
      vhost.bindQueue(names[i]!, 't', patterns[i]!, {}, { name: 'x' });
      live.add(i);
    }
    check('some bound again');
  } finally {
    await broker.stop();
  }
});

test('topic routing results are cached per key and the cache follows binding changes', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareExchange(vhost, 't', 'topic');
    declareQueue(vhost, 'q1');
    declareQueue(vhost, 'q2');
    vhost.bindQueue('q1', 't', 'x.*', {}, { name: 'o' });
    assert.equal(vhost.publish(message('t', 'x.y')).routed, 1);
    vhost.bindQueue('q2', 't', '#', {}, { name: 'o' });
    assert.equal(vhost.publish(message('t', 'x.y')).routed, 2, 'new binding seen despite cached key');
    vhost.unbindQueue('q1', 't', 'x.*', {}, { name: 'o' });
    assert.equal(vhost.publish(message('t', 'x.y')).routed, 1, 'removed binding no longer routes');
    assert.deepEqual(reached(vhost, ['q1', 'q2']), ['q1', 'q2']);
  } finally {
    await broker.stop();
  }
});

test('pathological # patterns match in linear time', async () => {
  const pattern = Array.from({ length: 12 }, () => '#').join('.') + '.z';
  const { broker, vhost } = await topicSetup([pattern]);
  try {
    const key = Array.from({ length: 60 }, () => 'a').join('.');
    const started = performance.now();
    assert.equal(vhost.publish(message('t', key)).routed, 0);
    assert.equal(vhost.publish(message('t', key + '.z')).routed, 1);
    assert.ok(performance.now() - started < 200, 'no exponential backtracking');
  } finally {
    await broker.stop();
  }
});
