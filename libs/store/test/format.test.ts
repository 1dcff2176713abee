// The insert format (src/format.ts): JSONCompactEachRow values in the first row's column order, or undefined (the
// caller falls back to JSONEachRow) when the rows' keys differ.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compactBody, compactRows } from '../src/format.ts';

describe('insert format', () => {
  test('compactRows - one column list, each row its values in that order; undefined is null', () => {
    const c = compactRows([
      { a: 1, b: 'x', m: { k: 'v' }, n: null },
      { b: 'y"\n', a: 2, m: {}, n: undefined },
    ]);
    assert.deepEqual(c, {
      columns: ['a', 'b', 'm', 'n'],
      values: [
        [1, 'x', { k: 'v' }, null],
        [2, 'y"\n', {}, null],
      ],
    });
    assert.equal(compactBody(c?.values ?? []), '[1,"x",{"k":"v"},null]\n[2,"y\\"\\n",{},null]');
  });

  test('compactRows - rows whose keys differ (a key more, less or another) are left to JSONEachRow', () => {
    assert.equal(compactRows([{ a: 1 }, { a: 2, b: 3 }]), undefined);
    assert.equal(compactRows([{ a: 1, b: 2 }, { a: 2 }]), undefined);
    assert.equal(
      compactRows([
        { a: 1, b: 2 },
        { a: 2, c: undefined },
      ]),
      undefined,
    );
    assert.equal(compactRows([]), undefined);
  });
});
