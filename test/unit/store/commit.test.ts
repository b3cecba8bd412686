import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitter, type CommitHost } from '../../../src/store/commit.js';
import { RealFileSystem, type FileSystem } from '../../../src/store/fs.js';

/** A file system whose syncs complete only when the test says so, in any order. */
class HeldSyncs extends RealFileSystem {
  readonly held: Array<{ fd: number; release: (error: Error | null) => void }> = [];
  override sync(fd: number, callback: (error: Error | null) => void): void {
    this.held.push({ fd, release: callback });
  }
}

/** A host with one dirty file per round; records what the committer asked of it. */
function host(): CommitHost & { log: string[]; rounds: number } {
  const h = {
    log: [] as string[],
    rounds: 0,
    flush: () => void h.log.push('flush'),
    takeDirty: () => {
      h.rounds++;
      return [100 + h.rounds];
    },
    synced: () => void h.log.push('synced'),
  };
  return h;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a second sync round starts while the first is in flight, and rounds are reported in order', async () => {
  const fs = new HeldSyncs();
  const h = host();
  const committer = new GroupCommitter(h, fs as FileSystem, { mode: 'always' }, 2);
  const done: string[] = [];
  committer.whenDurable(() => done.push('a'));
  await turn();
  committer.whenDurable(() => done.push('b'));
  await turn();
  assert.equal(fs.held.length, 2, 'both rounds are syncing at once');
  committer.whenDurable(() => done.push('c'));
  await turn();
  assert.equal(fs.held.length, 2, 'no third round while two are in flight');
  fs.held[1]!.release(null);
  await turn();
  assert.deepEqual(done, [], "the second round waits for the first one's sync");
  fs.held[0]!.release(null);
  await turn();
  assert.deepEqual(done, ['a', 'b']);
  assert.deepEqual(h.log.filter((l) => l === 'synced'), ['synced', 'synced']);
  await turn();
  assert.equal(fs.held.length, 3, 'the waiting callback got its round once there was room');
  fs.held[2]!.release(null);
  await committer.idle();
  assert.deepEqual(done, ['a', 'b', 'c']);
});

test('a failed round fails every round in flight and every later waiter', async () => {
  const fs = new HeldSyncs();
  const committer = new GroupCommitter(host(), fs as FileSystem, { mode: 'always' }, 2);
  const results: string[] = [];
  committer.whenDurable((error) => results.push(`a:${error ? 'failed' : 'ok'}`));
  await turn();
  committer.whenDurable((error) => results.push(`b:${error ? 'failed' : 'ok'}`));
  await turn();
  fs.held[1]!.release(null);
  fs.held[0]!.release(new Error('EIO'));
  await turn();
  assert.deepEqual(results, ['a:failed', 'b:failed']);
  committer.whenDurable((error) => results.push(`c:${error ? 'failed' : 'ok'}`));
  await turn();
  assert.deepEqual(results, ['a:failed', 'b:failed', 'c:failed']);
  assert.ok(committer.error);
});

test('with one round in flight, the next waits for it to complete', async () => {
  const fs = new HeldSyncs();
  const committer = new GroupCommitter(host(), fs as FileSystem, { mode: 'always' }, 1);
  committer.whenDurable(() => undefined);
  await turn();
  committer.whenDurable(() => undefined);
  await turn();
  assert.equal(fs.held.length, 1);
  fs.held[0]!.release(null);
  await turn();
  await turn();
  assert.equal(fs.held.length, 2);
  fs.held[1]!.release(null);
  await committer.idle();
});
