/**
 * What the gallery, the evaluation, the drawing pad and the network view show: the model (weights) and its
 * outputs on the test set as the backend sends them (binary), the test images, and what the user picked —
 * the gallery's filter, the image selected, the image inspected. Derived from these: the selection, the
 * confusion matrix and the per-class metrics. Fetched when one of those views is open and the state names
 * another model; while a run goes on, later epochs are offered, not pushed, so browsing stays put.
 */

import type { ModelInsight, TestImages } from '@core/shared/contract';
import { IMAGE_SIZE } from '@core/shared/dataset';
import { ALL_IMAGES, type GalleryFilter, selectImages, type TestOutputs } from '@core/shared/insight/selection';
import { classMetrics, confusionMatrix } from '@core/shared/classification';
import { inspectImage, type ImageActivations } from '@core/shared/insight/inspect';
import { mlpShape, type MlpParameters } from '@core/shared/mlp';
import type { Studio } from './studio.svelte';

/** An image whose activations are shown: a test image or the user's own. */
export interface InspectedImage {
  pixels: Uint8Array;
  /** What it is, for headings ("Test image 1,234", "Your drawing"). */
  title: string;
  kind: 'test' | 'user';
  /** Which test image it is (kind 'test'). */
  index?: number;
}

export class InsightView {
  insight = $state.raw<ModelInsight | null>(null);
  images = $state.raw<TestImages | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  filter = $state<GalleryFilter>({ ...ALL_IMAGES });
  /** The test image whose details are open. */
  selected = $state<number | null>(null);
  /** The image the network view shows the activations of. */
  inspected = $state.raw<InspectedImage | null>(null);
  /** The attempt that failed (key or run epoch), so it is not repeated until something changes. */
  private failedAttempt: string | null = null;
  private requestSerial = 0;

  constructor(private readonly studio: Studio) {}

  /** The model's parameters in the canonical layout. */
  parameters = $derived.by((): MlpParameters | null => {
    const insight = this.insight;
    return insight ? { shape: mlpShape(insight.hiddenSizes), weights: insight.weights, biases: insight.biases } : null;
  });

  /** The outputs on the test set with its labels, when both are here and are of the same set. */
  outputs = $derived.by((): TestOutputs | null => {
    const test = this.insight?.test;
    const images = this.images;
    if (!test || !images || images.fingerprint !== test.fingerprint) return null;
    return { labels: images.labels, predictions: test.predictions, probabilities: test.probabilities };
  });

  selection = $derived.by((): Int32Array =>
    this.outputs ? selectImages(this.outputs, this.filter) : new Int32Array(0),
  );

  confusion = $derived.by((): number[][] | null =>
    this.outputs ? confusionMatrix(this.outputs.predictions, this.outputs.labels) : null,
  );

  metrics = $derived.by(() => (this.confusion ? classMetrics(this.confusion) : null));

  /** The activations of the image the network view shows. */
  activations = $derived.by((): ImageActivations | null =>
    this.parameters && this.inspected ? inspectImage(this.parameters, this.inspected.pixels) : null,
  );

  /** The pixels of test image `index`. */
  testImage(index: number): Uint8Array {
    return this.images!.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE);
  }

  /** While a run goes on: a later whole epoch than the one shown, which the user may ask for. */
  get newerEpoch(): number | null {
    if (!this.studio.active || !this.insight) return null;
    const last = this.studio.lastEpoch?.epoch ?? 0;
    const shown = this.insight.source === 'run' ? (this.insight.epochsDone ?? 0) : 0;
    return last > shown ? last : null;
  }

  /** What should be fetched now: a key (or run epoch) not shown yet and not failed already; null for nothing. */
  private wanted(): string | null {
    const state = this.studio.state;
    if (!state) return null;
    if (this.studio.active && state.insightRun) {
      // Only when nothing of this run is shown (its first epoch may still be training): later epochs are offered.
      if (this.insight?.key.startsWith(state.insightRun)) return null;
      return `${state.insightRun}@${this.studio.lastEpoch?.epoch ?? 0}`;
    }
    return state.insightKey !== this.insight?.key ? (state.insightKey ?? 'none') : null;
  }

  /** Fetches what the state names, if it is not shown yet (called while a view that needs it is open). */
  update(): void {
    const wanted = this.wanted();
    if (wanted === null || wanted === this.failedAttempt || this.loading) return;
    if (wanted === 'none') {
      this.insight = null;
      this.error = null;
      return;
    }
    void this.refresh(wanted);
  }

  /** Fetches the model to show now (the run's newest whole epoch while it trains), and the test images. */
  async refresh(attempt = 'manual'): Promise<void> {
    const serial = ++this.requestSerial;
    this.loading = true;
    try {
      const response = await this.studio.transport.request({ type: 'get-insight' });
      if (serial !== this.requestSerial) return;
      if (!response.ok) {
        // Nothing stale stays on screen (another model's images while a new run trains its first epoch).
        this.insight = null;
        this.error = response.error.charAt(0).toUpperCase() + response.error.slice(1);
        this.failedAttempt = attempt;
        return;
      }
      const insight = response.insight;
      const fingerprint = insight.test?.fingerprint;
      if (fingerprint && this.images?.fingerprint !== fingerprint) {
        const images = await this.studio.transport.request({ type: 'get-test-images' });
        if (serial !== this.requestSerial) return;
        if (images.ok) {
          this.images = images.testImages;
          // Another test set: nothing selected in the last one stays selected or inspected.
          this.selected = null;
          if (this.inspected?.kind === 'test') this.inspected = null;
        }
      }
      this.insight = insight;
      this.error = null;
      this.failedAttempt = null;
    } finally {
      if (serial === this.requestSerial) this.loading = false;
    }
  }

  /** Opens a test image's details and shows its activations in the network view. */
  select(index: number | null): void {
    this.selected = index;
    if (index !== null) this.inspectTest(index);
  }

  /** Shows test image `index`'s activations in the network view, without opening its details in the gallery. */
  inspectTest(index: number): void {
    if (!this.images || index < 0 || index >= this.images.count) return;
    this.inspected = {
      pixels: this.testImage(index).slice(),
      title: `Test image ${index.toLocaleString('en-US')}`,
      kind: 'test',
      index,
    };
  }

  /** Shows exactly the images of one confusion-matrix cell. */
  showCell(trueClass: number, predictedClass: number): void {
    this.filter = { ...this.filter, show: 'all', trueClass, predictedClass };
  }
}
