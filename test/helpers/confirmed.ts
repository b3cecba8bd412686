import assert from 'node:assert/strict';

/**
 * The durability promise after a crash or an I/O failure: every confirmed id was recovered, exactly once,
 * and confirmed ids keep their relative order (unconfirmed ids may be there or not).
 */
export function assertConfirmedInOrder(recovered: number[], confirmed: number[]): void {
  const position = new Map<number, number>();
  recovered.forEach((id, i) => {
    assert.equal(position.has(id), false, `id ${id} recovered twice`);
    position.set(id, i);
  });
  let last = -1;
  for (const id of confirmed) {
    const at = position.get(id);
    assert.ok(at !== undefined, `confirmed id ${id} lost`);
    assert.ok(at > last, `confirmed id ${id} out of order`);
    last = at;
  }
}
