/**
 * The file names the save dialogs and downloads suggest for a model: they say which run and which epoch
 * ("fashion-mnist-quick-20261206-210850-epoch-8.safetensors", "my-model-epoch-12.onnx"), where a fixed name
 * would make every save overwrite the last one. The page proposes a name; the hosts accept only a plain file
 * name with the right extension, and fall back to the fixed names otherwise.
 */

import type { ExportFormat, StudioState } from './contract';
import { DEFAULT_CONFIG } from './config';
import { fileName } from './format';
import { presetOf } from './presets';

export type SavedKind = 'checkpoint' | ExportFormat;

const ENDINGS: Record<SavedKind, string> = {
  checkpoint: '.safetensors',
  onnx: '.onnx',
  safetensors: '-weights.safetensors',
  // A folder (the browser host adds .zip to the file it offers).
  pytorch: '-pytorch',
};

/** The longest name proposed (file systems allow 255 bytes; a shorter name stays readable in a dialog). */
const MAX_STEM = 100;

/** The name suggested for saving the model held as `kind`, from where it came from and its epochs. */
export function suggestedModelName(kind: SavedKind, state: Pick<StudioState, 'model' | 'run'>): string | null {
  const model = state.model;
  if (!model) return null;
  let stem: string;
  // A run's own checkpoint is runs/<run id>/last.safetensors (or best): the run id names the run in the Runs view.
  const runFile = /[\\/](\d{8}-\d{6}-[0-9a-f]+)[\\/](last|best)\.safetensors$/;
  const own =
    (model.file ? runFile.exec(model.file) : null) ?? (!model.file ? runFile.exec(state.run.autosaveFile ?? '') : null);
  if (own) {
    const runId = own[1];
    const preset = model.settings ? presetOf({ ...DEFAULT_CONFIG, ...model.settings }) : null;
    stem = `fashion-mnist-${preset ?? model.architecture}-${runId}`;
  } else if (model.file) {
    stem = fileName(model.file)
      .replace(/(-weights)?\.(safetensors|onnx|pt|pth)$/i, '')
      .replace(/-epoch-\d+$/, '');
  } else {
    const preset = model.settings ? presetOf({ ...DEFAULT_CONFIG, ...model.settings }) : null;
    stem = `fashion-mnist-${preset ?? model.architecture}`;
  }
  const epochs = model.epochsDone === null ? '' : `-epoch-${model.epochsDone}`;
  return plainName(`${stem}${epochs}`, kind);
}

/** `name` made a plain file name ending as `kind`'s files do, or null when nothing usable is left of it. */
export function plainName(name: string, kind: SavedKind): string | null {
  const ending = ENDINGS[kind];
  let stem = fileName(name).endsWith(ending) ? fileName(name).slice(0, -ending.length) : fileName(name);
  stem = stem
    .replace(/[^\w.\- ]+/g, '-')
    .replace(/^[.\- ]+/, '')
    .slice(0, MAX_STEM)
    .trim();
  return stem ? `${stem}${ending}` : null;
}
