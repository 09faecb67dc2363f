/**
 * The model as the network view draws it: each layer with its units, its activation function, the shapes of
 * its weights and biases and its parameter count, and the total, for any number of hidden layers.
 */

import { IMAGE_HEIGHT, IMAGE_WIDTH } from '../dataset';
import { layerSizes, type MlpShape } from '../mlp';

export interface LayerSummary {
  /** "Input", "Hidden layer 1", …, "Output". */
  name: string;
  units: number;
  /** Null for the input, which computes nothing. */
  activation: 'ReLU' | 'softmax' | null;
  /** [inputs, outputs] of the weight matrix; null for the input. */
  weights: [number, number] | null;
  /** Length of the bias vector; null for the input. */
  biases: number | null;
  parameters: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  /** All weights and biases. */
  parameters: number;
}

export function summarizeModel(shape: MlpShape): ModelSummary {
  const sizes = layerSizes(shape);
  const last = sizes.length - 1;
  const layers = sizes.map((units, l): LayerSummary => {
    if (l === 0) return { name: 'Input', units, activation: null, weights: null, biases: null, parameters: 0 };
    const inputs = sizes[l - 1];
    return {
      name: l === last ? 'Output' : `Hidden layer ${l}`,
      units,
      activation: l === last ? 'softmax' : 'ReLU',
      weights: [inputs, units],
      biases: units,
      parameters: inputs * units + units,
    };
  });
  return { layers, parameters: layers.reduce((sum, layer) => sum + layer.parameters, 0) };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** One line that says all of a layer, for screen readers and tooltips. */
export function describeLayer(layer: LayerSummary): string {
  if (!layer.weights) return `${layer.name}: ${count(layer.units)} pixels (${IMAGE_WIDTH}×${IMAGE_HEIGHT})`;
  const [inputs, outputs] = layer.weights;
  const units = layer.activation === 'softmax' ? 'classes' : 'units';
  return (
    `${layer.name}: ${count(layer.units)} ${units}, ${layer.activation}; ` +
    `weights ${inputs}×${outputs}, biases ${layer.biases}; ${count(layer.parameters)} parameters`
  );
}

/** "784 → 512 → 256 → 10". */
export function layerChain(summary: ModelSummary): string {
  return summary.layers.map((layer) => layer.units).join(' → ');
}
