/**
 * The gallery's and the network view's store (InsightView) against a fake transport: when it asks for the
 * model and the test images, answers that come too late, refusals, a run's later epochs offered, and what is
 * derived from the answers (the confusion matrix, the images a filter shows, the image inspected).
 */

import { describe, expect, it } from 'vitest';
import { type Answer, DEFAULT_SETTINGS, type ModelInsight, type TestImages } from '@core/shared/contract';
import { InsightView } from '../../../src/renderer/src/lib/insight.svelte';
import { Studio } from '../../../src/renderer/src/lib/studio.svelte';
import { deferred, FakeTransport, settled } from './fake-transport';
import { epochSummary, progressUpdate, runInfo, studioState } from './studio-state';

/** A model without hidden layers; on a test set of three images it predicts 0, 1, 1. */
function modelInsight(key: string, fingerprint: string | null, changes: Partial<ModelInsight> = {}): ModelInsight {
  return {
    key,
    source: 'model',
    epochsDone: 3,
    hiddenSizes: [],
    weights: [new Float32Array(784 * 10)],
    biases: [new Float32Array(10)],
    test:
      fingerprint === null
        ? null
        : {
            fingerprint,
            count: 3,
            predictions: Uint8Array.of(0, 1, 1),
            probabilities: new Float32Array(30),
            accuracy: 2 / 3,
            cost: 1,
          },
    ...changes,
  };
}

/** Test images labelled 0, 1, 2, …; every pixel of image i is i % 256. */
function testImages(fingerprint: string, count = 3): TestImages {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) images.fill(i % 256, i * 784, (i + 1) * 784);
  return { fingerprint, count, images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10) };
}

const insightAnswer = (insight: ModelInsight): Answer<'get-insight'> => ({ ok: true, insight });
const imagesAnswer = (images: TestImages): Answer<'get-test-images'> => ({ ok: true, testImages: images });

function viewOf(transport: FakeTransport): { view: InsightView; studio: Studio } {
  const studio = new Studio(transport);
  return { view: new InsightView(studio), studio };
}

describe('fetching', () => {
  it('fetches the test images once per test set, and another set clears the selection', async () => {
    const transport = new FakeTransport();
    const { view } = viewOf(transport);
    transport.answer(
      'get-insight',
      insightAnswer(modelInsight('k1', 'set-1')),
      insightAnswer(modelInsight('k2', 'set-1')),
      insightAnswer(modelInsight('k3', 'set-2')),
    );
    transport.answer('get-test-images', imagesAnswer(testImages('set-1')), imagesAnswer(testImages('set-2')));

    await view.refresh();
    view.select(1);
    await view.refresh();
    expect(transport.sent('get-test-images')).toHaveLength(1);
    expect(view.insight?.key).toBe('k2');
    expect(view.selected).toBe(1);
    expect(view.inspected?.kind).toBe('test');

    await view.refresh();
    expect(transport.sent('get-test-images')).toHaveLength(2);
    expect(view.images?.fingerprint).toBe('set-2');
    expect(view.selected).toBeNull();
    expect(view.inspected).toBeNull();
  });

  it("keeps the user's own drawing inspected when the test set changes", async () => {
    const transport = new FakeTransport();
    const { view } = viewOf(transport);
    const drawing = { pixels: new Uint8Array(784).fill(255), title: 'Your drawing', kind: 'user' as const };
    view.inspected = drawing;
    transport.answer('get-insight', insightAnswer(modelInsight('k1', 'set-1')));
    transport.answer('get-test-images', imagesAnswer(testImages('set-1')));
    await view.refresh();
    expect(view.inspected).toEqual(drawing);
  });

  it('ignores an answer to a request a newer one replaced, and loads until the newest is answered', async () => {
    const transport = new FakeTransport();
    const { view } = viewOf(transport);
    const older = deferred<Answer<'get-insight'>>();
    const newer = deferred<Answer<'get-insight'>>();
    transport.answer('get-insight', older.promise, newer.promise);
    const first = view.refresh();
    const second = view.refresh();

    older.resolve(insightAnswer(modelInsight('k1', null)));
    await first;
    expect(view.insight).toBeNull();
    expect(view.loading).toBe(true);

    newer.resolve(insightAnswer(modelInsight('k2', null)));
    await second;
    expect(view.insight?.key).toBe('k2');
    expect(view.loading).toBe(false);
  });

  it('ignores test images that arrive after a newer request', async () => {
    const transport = new FakeTransport();
    const { view } = viewOf(transport);
    const lateImages = deferred<Answer<'get-test-images'>>();
    transport.answer(
      'get-insight',
      insightAnswer(modelInsight('k1', 'set-1')),
      insightAnswer(modelInsight('k2', null)),
    );
    transport.answer('get-test-images', lateImages.promise);
    const first = view.refresh();
    await view.refresh();
    lateImages.resolve(imagesAnswer(testImages('set-1')));
    await first;
    expect(view.images).toBeNull();
    expect(view.insight?.key).toBe('k2');
  });

  it('asks only when the state names another model than the one shown', async () => {
    const transport = new FakeTransport();
    const { view, studio } = viewOf(transport);
    studio.apply({ type: 'state', state: studioState({ insightKey: 'k1' }) });
    transport.answer('get-insight', insightAnswer(modelInsight('k1', null)));
    view.update();
    await settled();
    view.update();
    expect(transport.sent('get-insight')).toHaveLength(1);

    studio.apply({ type: 'state', state: studioState({ insightKey: null }) });
    view.update();
    expect(view.insight).toBeNull();
    expect(transport.sent('get-insight')).toHaveLength(1);
  });

  it('says why a model cannot be shown, without asking again until the state names another', async () => {
    const transport = new FakeTransport();
    const { view, studio } = viewOf(transport);
    studio.apply({ type: 'state', state: studioState({ insightKey: 'k1' }) });
    transport.answer('get-insight', { ok: false, error: 'the test set could not be evaluated: out of memory' });
    view.update();
    await settled();
    expect(view.error).toBe('The test set could not be evaluated: out of memory');
    expect(view.insight).toBeNull();
    view.update();
    expect(transport.sent('get-insight')).toHaveLength(1);

    studio.apply({ type: 'state', state: studioState({ insightKey: 'k2' }) });
    transport.answer('get-insight', insightAnswer(modelInsight('k2', null)));
    view.update();
    await settled();
    expect(view.insight?.key).toBe('k2');
    expect(view.error).toBeNull();
  });

  it("shows a training run's first whole epoch, then offers later epochs instead of fetching them", async () => {
    const transport = new FakeTransport();
    const { view, studio } = viewOf(transport);
    const run = runInfo({
      id: 1,
      status: 'running',
      settings: DEFAULT_SETTINGS,
      epochsDone: 2,
      history: [epochSummary(1), epochSummary(2)],
    });
    studio.apply({
      type: 'state',
      state: studioState({ run, insightRun: 's-run1-', insightKey: 's-run1-epoch2-no-test' }),
    });
    transport.answer(
      'get-insight',
      insightAnswer(modelInsight('s-run1-epoch2-no-test', null, { source: 'run', epochsDone: 2 })),
    );
    view.update();
    await settled();
    expect(view.newerEpoch).toBeNull();

    studio.apply({ type: 'progress', progress: progressUpdate({ epoch: 4, completedEpochs: [epochSummary(3)] }) });
    expect(view.newerEpoch).toBe(3);
    view.update();
    expect(transport.sent('get-insight')).toHaveLength(1);

    transport.answer(
      'get-insight',
      insightAnswer(modelInsight('s-run1-epoch3-no-test', null, { source: 'run', epochsDone: 3 })),
    );
    await view.refresh();
    expect(view.newerEpoch).toBeNull();
  });
});

describe('derived from the answers', () => {
  /** A view showing the model that predicts 0, 1, 1 for the images labelled 0, 1, 2. */
  async function shown(images = testImages('set-1')): Promise<InsightView> {
    const transport = new FakeTransport();
    const { view } = viewOf(transport);
    transport.answer('get-insight', insightAnswer(modelInsight('k1', 'set-1')));
    transport.answer('get-test-images', imagesAnswer(images));
    await view.refresh();
    return view;
  }

  it('counts the test images by true and predicted class', async () => {
    const view = await shown();
    const expected = Array.from({ length: 10 }, () => new Array(10).fill(0));
    expected[0][0] = 1;
    expected[1][1] = 1;
    expected[2][1] = 1;
    expect(view.confusion).toEqual(expected);
  });

  it('shows exactly the images of a confusion-matrix cell', async () => {
    const view = await shown();
    expect([...view.selection]).toEqual([0, 1, 2]);
    view.showCell(2, 1);
    expect([...view.selection]).toEqual([2]);
    view.showCell(1, 1);
    expect([...view.selection]).toEqual([1]);
  });

  it('shows no outputs while the test images are of another set', async () => {
    const view = await shown(testImages('set-0'));
    expect(view.outputs).toBeNull();
    expect(view.confusion).toBeNull();
    expect(view.selection).toHaveLength(0);
  });

  it("inspects a selected test image's own pixels", async () => {
    const view = await shown(testImages('set-1', 1235));
    view.select(1234);
    expect(view.inspected?.title).toBe('Test image 1,234');
    expect(view.inspected?.pixels).toEqual(new Uint8Array(784).fill(1234 % 256));
    expect(view.activations).not.toBeNull();
  });

  it('inspects a test image chosen in the network view without opening its details', async () => {
    const view = await shown(testImages('set-1', 20));
    view.inspectTest(7);
    expect(view.selected).toBeNull();
    expect(view.inspected).toMatchObject({ title: 'Test image 7', kind: 'test', index: 7 });
    expect(view.inspected?.pixels).toEqual(new Uint8Array(784).fill(7));
    // Past the last of the 20 images, or before the first: nothing changes.
    view.inspectTest(20);
    view.inspectTest(-1);
    expect(view.inspected?.index).toBe(7);
  });
});
