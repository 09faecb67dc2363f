/**
 * The gallery's current selection as one PNG contact sheet, in its order: each image in a frame, a solid
 * green one when the prediction is right, a red one with its top-right corner cut off by a triangle when it
 * is wrong (so the two differ in grey too).
 */

import type { TestOutputs } from '@core/shared/insight/selection';
import { paintImage } from './paint';

const TILE = 32;
const FRAME = 2;
const NOTCH = 10;
const COLUMNS = 50;

/** A PNG data URL of the images `selection` lists. */
export function contactSheet(images: Uint8Array, outputs: TestOutputs, selection: Int32Array): string {
  const columns = Math.min(COLUMNS, Math.max(1, selection.length));
  const canvas = document.createElement('canvas');
  canvas.width = columns * TILE;
  canvas.height = Math.max(1, Math.ceil(selection.length / columns)) * TILE;
  const context = canvas.getContext('2d')!;
  const sheet = context.createImageData(canvas.width, canvas.height);
  sheet.data.fill(255);
  selection.forEach((index, i) => {
    const left = (i % columns) * TILE;
    const top = Math.floor(i / columns) * TILE;
    paintImage(sheet, images, index, left + FRAME, top + FRAME);
    const right = outputs.predictions[index] === outputs.labels[index];
    const [r, g, b] = right ? [43, 138, 62] : [179, 38, 30];
    for (let y = 0; y < TILE; y++) {
      for (let x = 0; x < TILE; x++) {
        const frame = x < FRAME || y < FRAME || x >= TILE - FRAME || y >= TILE - FRAME;
        const notch = !right && x - y >= TILE - NOTCH;
        if (!frame && !notch) continue;
        const o = ((top + y) * canvas.width + left + x) * 4;
        sheet.data[o] = r;
        sheet.data[o + 1] = g;
        sheet.data[o + 2] = b;
      }
    }
  });
  context.putImageData(sheet, 0, 0);
  return canvas.toDataURL('image/png');
}
