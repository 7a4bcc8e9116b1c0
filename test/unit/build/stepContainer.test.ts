// A RUN step's container is removed before the step's outcome is reported; a removal that fails is
// said (with the step's own error), never swallowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRemovalFailure } from '../../../engine/src/build/builder';
import { failedPrecondition, notFound, SiloError } from '../../../engine/src/errors';
import { removeStepContainer } from '../../../engine/src/service/build';

/** Test fixture: the two ContainerService calls removal uses, failing as told. */
function containersFixture(outcomes: Array<'ok' | 'busy' | 'gone'>) {
  let removed = false;
  const calls: string[] = [];
  return {
    calls,
    async remove(id: string) {
      const o = outcomes.shift() ?? 'ok';
      calls.push(`remove:${o}`);
      if (o === 'busy') throw new Error('EBUSY: resource busy or locked');
      if (o === 'gone' || removed) throw notFound(`No such container: ${id}`);
      removed = true;
      return id;
    },
    async resolve(id: string): Promise<never> {
      calls.push('resolve');
      throw notFound(`No such container: ${id}`);
    },
  };
}

const ID = 'a'.repeat(64);

test('a removal that fails once is tried again after a pause', async () => {
  const c = containersFixture(['busy', 'ok']);
  await removeStepContainer(c as never, ID, 1);
  assert.deepEqual(c.calls, ['remove:busy', 'remove:ok']);
});

test('a removal that fails twice is an error naming the container and what to do', async () => {
  const c = containersFixture(['busy', 'busy']);
  await assert.rejects(removeStepContainer(c as never, ID, 1), (err: SiloError) => {
    assert.equal(err.kind, 'Internal');
    assert.match(err.line, /build step container aaaaaaaaaaaa could not be removed \(EBUSY.*\): remove it with `silo rm -f aaaaaaaaaaaa`/);
    return true;
  });
});

test('a container already gone on the second try counts as removed', async () => {
  const c = containersFixture(['busy', 'gone']);
  await removeStepContainer(c as never, ID, 1);
});

test("the step's own error keeps its kind and gains the removal failure", () => {
  const e = withRemovalFailure(failedPrecondition("Dockerfile:3: The command 'x' returned a non-zero code: 7"), new SiloError('Internal', 'the build step container abc could not be removed (EBUSY)', 'remove it with `silo rm -f abc`'));
  assert.equal(e.kind, 'FailedPrecondition');
  assert.match(e.message, /non-zero code: 7; and the build step container abc could not be removed \(EBUSY\): remove it with/);
});
