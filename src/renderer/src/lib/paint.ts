/**
 * Painting 28×28 grey images and colour scales into canvases at one canvas pixel per image pixel; CSS
 * scales them up without smoothing (image-rendering: pixelated), so pixels stay crisp at any size.
 */

import { IMAGE_SIZE, IMAGE_WIDTH } from '@core/shared/dataset';

/**
 * Paints image `index` of `images` (784 bytes each) at (left, top) of `target`, as the data set shows it: light on
 * black.
 */
export function paintImage(target: ImageData, images: Uint8Array, index: number, left = 0, top = 0): void {
  const offset = index * IMAGE_SIZE;
  for (let y = 0; y < IMAGE_WIDTH; y++) {
    for (let x = 0; x < IMAGE_WIDTH; x++) {
      const value = images[offset + y * IMAGE_WIDTH + x];
      const o = ((top + y) * target.width + left + x) * 4;
      target.data[o] = target.data[o + 1] = target.data[o + 2] = value;
      target.data[o + 3] = 255;
    }
  }
}

/** A canvas of one 28×28 image. */
export function drawImage(canvas: HTMLCanvasElement, images: Uint8Array, index = 0): void {
  canvas.width = IMAGE_WIDTH;
  canvas.height = IMAGE_WIDTH;
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(IMAGE_WIDTH, IMAGE_WIDTH);
  paintImage(image, images, index);
  context.putImageData(image, 0, 0);
}

/**
 * A diverging colour for a signed value scaled to [-1, 1]: blue for negative, white at zero, red for
 * positive (the ends of ColorBrewer's RdBu scale), as RGB bytes.
 */
export function diverging(value: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, value));
  const [r, g, b] = t < 0 ? [33, 102, 172] : [178, 24, 43];
  const k = Math.abs(t);
  return [Math.round(255 + (r - 255) * k), Math.round(255 + (g - 255) * k), Math.round(255 + (b - 255) * k)];
}
