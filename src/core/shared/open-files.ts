/**
 * What to do with files opened from outside the app's dialogs (dropped on the window, given on the command
 * line, double-clicked): checkpoints load as the model; data files load as the training or test set, by the
 * card they were dropped on, else by their names (Fashion-MNIST's own: "t10k"/"test" for the test set).
 * Shared by Electron's main process (paths) and the browser host's page (uploads), so both decide alike.
 */

import type { DatasetRole } from './contract';

export interface OpenPlan<T> {
  /** The checkpoint to load (the last one given: the app holds one model). */
  checkpoint: T | null;
  train: T[];
  test: T[];
}

export function isCheckpointName(name: string): boolean {
  return /\.safetensors$/i.test(name);
}

/** The data role a file name suggests when no card was chosen. */
export function roleOfName(name: string): DatasetRole {
  const base = name.split(/[\\/]/).pop() ?? name;
  return /t10k|test/i.test(base) ? 'test' : 'train';
}

export function planOpen<T>(files: readonly T[], nameOf: (file: T) => string, role: DatasetRole | null): OpenPlan<T> {
  const plan: OpenPlan<T> = { checkpoint: null, train: [], test: [] };
  for (const file of files) {
    const name = nameOf(file);
    if (isCheckpointName(name)) plan.checkpoint = file;
    else plan[role ?? roleOfName(name)].push(file);
  }
  return plan;
}
