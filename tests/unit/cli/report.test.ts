/**
 * `fmnist report` as a user runs it (the built executable; npm run build first): a small model trained on
 * the real data, its report parsed and checked against the float64 reference forward pass, not the engine.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Checkpoint, loadCheckpoint } from '@core/checkpoint/checkpoint';
import { CLASS_NAMES, IMAGE_SIZE, type LabelledDataset } from '@core/shared/dataset';
import { displayPath } from '@core/shared/errors';
import { useChromium } from '../../helpers/chromium-suite';
import { runBuiltCli } from '../../helpers/cli';
import {
  NO_REAL_DATA,
  randomDataset,
  REAL_DATA_DIR,
  realDataAvailable,
  realDataset,
  tempDir,
  toKaggleCsv,
  writeTemp,
} from '../../helpers/data';
import { oneLineProblems } from '../../helpers/failure';
import { decodePng } from '../../helpers/png';
import {
  countConfusion,
  imagesCountedElsewhere,
  nearTies as nearTiesOf,
  type ReferenceOutputs,
  referenceOutputs,
} from '../../helpers/reference-outputs';
import { bareStateDict } from '../../helpers/safetensors';

const withData = { env: { FMNIST_DATA: REAL_DATA_DIR } };

/** The confusion matrix's counts, row by row, and the class names in the row headers. */
function parseConfusion(html: string): { names: string[]; counts: number[][] } {
  const table = html.match(/<table class="confusion" id="confusion-matrix">.*?<tbody>(.*?)<\/tbody><\/table>/s)?.[1];
  if (!table) throw new Error('no confusion matrix in the report');
  const rows = [...table.matchAll(/<tr><th scope="row"><span class="index">\d<\/span> ([^<]*)<\/th>(.*?)<\/tr>/g)];
  return {
    names: rows.map((r) => r[1]),
    counts: rows.map((r) => [...r[2].matchAll(/<td[^>]*>(\d+)<\/td>/g)].map((c) => Number(c[1]))),
  };
}

interface Shown {
  index: number;
  src: string;
  alt: string;
  /** The confidence as printed, in percent. */
  percent: number;
}

function parseGallery(html: string): Shown[] {
  return [
    ...html.matchAll(
      /<figure class="mistake" data-index="(\d+)"><img src="([^"]*)" width="84" height="84" alt="([^"]*)">/g,
    ),
  ].map((m) => ({
    index: Number(m[1]),
    src: m[2],
    alt: m[3],
    percent: Number(m[3].match(/, ([\d.]+)%$/)?.[1]),
  }));
}

/** A refusal as users see it: exit code 2 and one line on stderr, naming `file`. */
function expectRefusal(result: ReturnType<typeof runBuiltCli>, file: string, problem: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(oneLineProblems(result.stderr.slice(0, -1))).toEqual([]);
  expect(result.stderr).toBe(`fmnist report: ${displayPath(file)}: ${problem}\n`);
}

describe('fmnist report on a model trained on the real data', () => {
  let dir: string;
  let html: string;
  let checkpoint: Checkpoint;
  let test: LabelledDataset;
  let reference: ReferenceOutputs;
  /** Images where the two likeliest classes are so close that float32 and float64 may disagree. */
  let nearTies: Set<number>;

  beforeAll(async () => {
    if (!realDataAvailable()) return;
    dir = await tempDir('fmnist-report-');
    const model = join(dir, 'm.safetensors');
    const trained = runBuiltCli(
      ['train', '--epochs', '1', '--limit', '3000', '--hidden', '32', '--out', model],
      withData,
    );
    if (trained.status !== 0) throw new Error(trained.stderr);
    const report = join(dir, 'report.html');
    const made = runBuiltCli(['report', '--model', model, '--out', report], withData);
    if (made.status !== 0) throw new Error(made.stderr);
    expect(made.stdout).toBe('');
    expect(made.stderr).toMatch(
      /^Wrote .*report\.html \([\d.]+ MB\): accuracy [\d.]+% on 10000 test images, \d+ misclassified images shown\.\n$/,
    );
    html = readFileSync(report, 'utf8');
    checkpoint = await loadCheckpoint(model);
    test = await realDataset('test');
    reference = referenceOutputs(checkpoint.parameters, test);
    nearTies = nearTiesOf(reference);
    console.log(
      `fmnist report: ${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB of HTML, ${parseGallery(html).length} misclassified images shown; ` +
        `${nearTies.size} near-ties between float32 and float64`,
    );
  });
  beforeEach((ctx) => ctx.skip(!realDataAvailable(), NO_REAL_DATA));

  it('counts in the confusion matrix what the reference forward pass predicts', () => {
    const { names, counts } = parseConfusion(html);
    expect(names).toEqual(CLASS_NAMES);
    const expected = countConfusion(reference.predictions, test.labels);
    expect(counts.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(
      expected.map((row) => row.reduce((a, b) => a + b, 0)),
    );
    // Equal, but for images the two precisions may call either way.
    const elsewhere = imagesCountedElsewhere(counts, expected);
    console.log(
      `confusion matrix: ${elsewhere} of 10000 images counted elsewhere than the reference predicts (${nearTies.size} near-ties)`,
    );
    expect(elsewhere).toBeLessThanOrEqual(nearTies.size);
    if (nearTies.size === 0) expect(counts).toEqual(expected);
  });

  it('shows the accuracy the diagonal gives and the reference cost', () => {
    const { counts } = parseConfusion(html);
    const correct = counts.reduce((sum, row, c) => sum + row[c], 0);
    expect(html.match(/<strong id="accuracy">([\d.]+%)<\/strong>/)?.[1]).toBe(
      `${((correct / 10000) * 100).toFixed(2)}%`,
    );
    expect(html).toContain(`(${correct.toLocaleString('en-US').replace(/,/g, '\u00a0')} of 10\u00a0000 images right)`);
    const cost = Number(html.match(/<strong id="cost">([\d.]+)<\/strong>/)?.[1]);
    expect(Math.abs(cost - reference.costSum / 10000)).toBeLessThan(1e-4);
  });

  it('shows every misclassified image, most confident first, with its classes and confidence', () => {
    const { counts } = parseConfusion(html);
    const offDiagonal = counts.reduce((sum, row, c) => sum + row.reduce((a, b) => a + b, 0) - row[c], 0);
    const shown = parseGallery(html);
    expect(shown).toHaveLength(offDiagonal);
    expect(
      Number(
        html
          .match(/<p id="mistake-count">([\d\u00a0]+) misclassified images, most confident first\.<\/p>/)?.[1]
          .replace(/\u00a0/g, ''),
      ),
    ).toBe(offDiagonal);
    for (let i = 1; i < shown.length; i++)
      expect(shown[i].percent, `image ${i} of the gallery`).toBeLessThanOrEqual(shown[i - 1].percent);
    const wrong = new Set([...test.labels.keys()].filter((i) => reference.predictions[i] !== test.labels[i]));
    const indices = new Set(shown.map((s) => s.index));
    expect(indices.size).toBe(shown.length);
    for (const index of wrong) if (!nearTies.has(index)) expect(indices.has(index), `image ${index}`).toBe(true);
    for (const s of shown) {
      if (nearTies.has(s.index)) continue;
      expect(wrong.has(s.index), `image ${s.index}`).toBe(true);
      expect(s.alt).toMatch(
        new RegExp(
          `^Predicted ${CLASS_NAMES[reference.predictions[s.index]]}, true ${CLASS_NAMES[test.labels[s.index]]}, \\d+\\.\\d%$`,
        ),
      );
      // One decimal, rounded from float32 here and float64 there: at most half a step and a hair apart.
      expect(Math.abs(s.percent - 100 * reference.confidence[s.index]), `image ${s.index}`).toBeLessThanOrEqual(
        0.05 + 1e-3,
      );
    }
  });

  it('embeds each image as a 28×28 PNG of the test image (dark on white)', () => {
    const shown = parseGallery(html);
    const sources = [...html.matchAll(/<img [^>]*?src="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toHaveLength(shown.length);
    for (const { index, src } of shown) {
      expect(src.startsWith('data:image/png;base64,')).toBe(true);
      const png = decodePng(Buffer.from(src.slice('data:image/png;base64,'.length), 'base64'));
      expect([png.width, png.height]).toEqual([28, 28]);
      const expected = test.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE).map((v) => 255 - v);
      expect(Buffer.from(png.pixels).equals(Buffer.from(expected)), `image ${index}`).toBe(true);
    }
  });

  it('refers to nothing outside the file', () => {
    expect(html).not.toContain('http://');
    expect(html).not.toContain('https://');
    expect(html).not.toMatch(/<link|<script|@import|url\(|xmlns/i);
  });

  it('describes the model, its settings and history, and the test data', () => {
    expect(html).toContain('<th scope="row">Network</th><td>784-32-10 ');
    expect(html).toContain('<th scope="row">Epochs trained</th><td>1 of the 1 asked for</td>');
    expect(html).toContain('<th scope="row">training subset size</th><td>the first 3\u00a0000 images</td>');
    expect(html).toContain(`<code>${join(REAL_DATA_DIR, 'train-images-idx3-ubyte.gz')}</code>`);
    expect(html).toContain(`fingerprint <code>${checkpoint.datasetFingerprint}</code>`);
    expect(html).toContain(
      `<code>${join(REAL_DATA_DIR, 't10k-labels-idx1-ubyte.gz')}</code> (<span id="test-count">10\u00a0000</span> images)`,
    );
    const row = html.match(/id="history-table">.*?<tbody><tr>(.*?)<\/tr>/)?.[1];
    const h = checkpoint.history[0];
    expect(row).toBe(
      [
        1,
        h.cost.toFixed(4),
        `${(h.trainAccuracy * 100).toFixed(2)}%`,
        `${(h.testAccuracy! * 100).toFixed(2)}%`,
        h.testCost!.toFixed(4),
        h.seconds.toFixed(2),
      ]
        .map((cell) => `<td>${cell}</td>`)
        .join(''),
    );
    expect(html.match(/<svg /g)).toHaveLength(2);
  });

  describe('in Chromium', () => {
    const browser = useChromium(realDataAvailable);

    it('opens offline: no request leaves the file, every image decodes to 28×28, both charts draw', async () => {
      const page = await browser().newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (request) => {
        if (!/^(data|file):/.test(request.url())) requests.push(request.url());
      });
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      try {
        await page.goto(`file://${join(dir, 'report.html')}`);
        const seen = await page.evaluate(() => {
          // Browser APIs (this runs in the page; the test project has no DOM types).
          const page = globalThis as any;
          const doc = page.document;
          const images = [...doc.querySelectorAll('img')].map((img: any) => [
            img.complete,
            img.naturalWidth,
            img.naturalHeight,
            page.getComputedStyle(img).imageRendering,
          ]);
          const charts = [...doc.querySelectorAll('svg.chart')].map(
            (svg: any) => svg.getBBox().width > 100 && svg.querySelectorAll('.series').length,
          );
          return { images, charts };
        });
        expect(seen.images.length).toBe(parseGallery(html).length);
        expect(new Set(seen.images.map((i: unknown[]) => i.join(' ')))).toEqual(new Set(['true 28 28 pixelated']));
        expect(seen.charts).toEqual([2, 2]);
        expect(requests).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
});

describe('fmnist report on odd input', () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await tempDir('fmnist-report-odd-');
    data = await writeTemp(dir, 'few.csv', toKaggleCsv(randomDataset(50, 4)));
  });

  it('says the settings of a bare state dict are unknown, and that it has no history', async () => {
    const bare = await writeTemp(
      dir,
      'bare.safetensors',
      bareStateDict(16, (_layer, kind, i) => (kind === 'bias' ? 0.01 : ((i % 5) - 2) / 50)),
    );
    const out = join(dir, 'bare.html');
    const result = runBuiltCli(['report', '--model', bare, '--test', data, '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Settings unknown: the file does not record how the model was trained');
    expect(html).toContain('<th scope="row">Epochs trained</th><td>unknown</td>');
    expect(html).toContain('<th scope="row">Trained on</th><td>not recorded</td>');
    expect(html).not.toMatch(/learning rate|batch size|seed/);
    expect(html).toContain('The file records no training history, so there is nothing to chart.');
    expect(html).not.toContain('<svg');
    expect(html).toContain('(<span id="test-count">50</span> images)');
    expect(
      parseConfusion(html)
        .counts.flat()
        .reduce((a, b) => a + b, 0),
    ).toBe(50);
  });

  it('refuses a missing model in one line naming it, and writes nothing', () => {
    const missing = join(dir, 'missing.safetensors');
    const out = join(dir, 'never.html');
    expectRefusal(
      runBuiltCli(['report', '--model', missing, '--test', data, '--out', out]),
      missing,
      'no such file or directory',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('checks --out before anything else: a folder that does not exist, a file as folder, a folder as file', async () => {
    const missing = join(dir, 'missing.safetensors');
    const notAFolder = await writeTemp(dir, 'plain.txt', 'x');
    // The model is missing too: the line is about --out, so --out was checked first.
    for (const [out, problem] of [
      [join(dir, 'nowhere', 'r.html'), `the folder ${join(dir, 'nowhere')} does not exist`],
      [join(notAFolder, 'r.html'), `${notAFolder} is a file, not a folder`],
      [dir, 'is a directory, expected a file name'],
    ]) {
      expectRefusal(
        runBuiltCli(['report', '--model', missing, '--test', join(dir, 'no-data.csv'), '--out', out]),
        out,
        problem,
      );
    }
  });

  it('will not write the report over its own model', async () => {
    const bytes = bareStateDict(8, () => 0.01);
    const model = await writeTemp(dir, 'keep.safetensors', bytes);
    expectRefusal(
      runBuiltCli(['report', '--model', model, '--test', data, '--out', model]),
      model,
      `is ${model}, an input of the report: give another file name`,
    );
    expect(readFileSync(model).equals(bytes)).toBe(true);
  });

  it('needs --model and --out, and has --help', () => {
    expect(runBuiltCli(['report', '--out', join(dir, 'r.html')]).stderr).toBe(
      'fmnist report: --model CHECKPOINT is required (see fmnist report --help)\n',
    );
    expect(runBuiltCli(['report', '--model', 'm.safetensors']).stderr).toBe(
      'fmnist report: --out FILE is required (see fmnist report --help)\n',
    );
    const help = runBuiltCli(['report', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^fmnist report — write an offline HTML report/);
    for (const option of ['--model CHECKPOINT', '--test PATH', '--out FILE', '--threads N', '--kernels KIND'])
      expect(help.stdout).toContain(option);
    expect(runBuiltCli(['--help']).stdout).toMatch(/\n {2}report +write an offline HTML report/);
  });
});
