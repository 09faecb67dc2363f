/**
 * `npm run bench:prepare`: how long the drawing pad's preparation (src/core/shared/prepare-image.ts) takes on a
 * 3000×2000 photo, in its two worst cases: a white page with a small drawing (the trim reads every pixel)
 * and an object filling the frame (grey conversion and scaling read every pixel). Median of 7 runs each,
 * after one warm-up; the target is 200 ms.
 */

import { prepareImage, type RgbaImage } from '@core/shared/prepare-image';
import { median } from '@core/median';

function white(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 4).fill(255) };
}

const drawing = white(3000, 2000);
for (let y = 900; y < 1100; y++) for (let x = 1400; x < 1403; x++) drawing.data.set([0, 0, 0, 255], (y * 3000 + x) * 4);
const photo = white(3000, 2000);
for (let y = 0; y < 2000; y++) {
  for (let x = 0, i = y * 3000 * 4; x < 3000; x++, i += 4)
    photo.data.set([(x * 7) & 255, (y * 3) & 255, (x + y) & 255, 255], i);
}

for (const [name, picture] of [
  ['small drawing on a white page', drawing],
  ['photo filling the frame', photo],
] as const) {
  prepareImage(picture);
  const times: number[] = [];
  for (let run = 0; run < 7; run++) {
    const started = performance.now();
    prepareImage(picture);
    times.push(performance.now() - started);
  }
  process.stdout.write(
    `prepareImage 3000×2000, ${name}: median ${median(times).toFixed(1)} ms (${times.map((t) => t.toFixed(0)).join(', ')}); target 200 ms\n`,
  );
}
