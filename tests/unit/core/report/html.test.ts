import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '@core/shared/config';
import { mlpShape } from '@core/shared/mlp';
import { escapeHtml, escapePath } from '@core/report/escape';
import { groupDigits, heatColours, type ReportData, reportHtml } from '@core/report/html';
import type { EpochSummary } from '@core/shared/events';

function epoch(n: number, testAccuracy: number | null, validationAccuracy: number | null = null): EpochSummary {
  return {
    epoch: n,
    epochs: 3,
    cost: 1 / n,
    trainAccuracy: 0.5 + n / 10,
    validationCost: validationAccuracy === null ? null : 0.9 / n,
    validationAccuracy,
    testCost: testAccuracy === null ? null : 0.8 / n,
    testAccuracy,
    seconds: 1.5,
    evaluationSeconds: 0.1,
    samplesPerSecond: 1000,
  };
}

/** A diagonal of 90 per class, 10 more for class 0 predicted as 6. */
function confusion(): number[][] {
  return Array.from({ length: 10 }, (_, t) =>
    Array.from({ length: 10 }, (_, p) => (t === p ? 90 : t === 0 && p === 6 ? 10 : 0)),
  );
}

function data(overrides: Partial<ReportData['model']> = {}, mistakes: ReportData['mistakes'] = []): ReportData {
  return {
    model: {
      file: 'runs/model.safetensors',
      shape: mlpShape([32]),
      config: resolveRunConfig({ hiddenSizes: [32], epochs: 3, limit: 3000, learningRate: 0.002 }),
      epochsDone: 3,
      history: [epoch(1, 0.7), epoch(2, 0.75), epoch(3, 0.8)],
      datasetFingerprint: '0123456789abcdef',
      dataSources: { train: ['/data/train-images-idx3-ubyte.gz', '/data/train-labels-idx1-ubyte.gz'], test: null },
      dataHistory: null,
      appVersion: '0.1.0',
      createdAt: '2025-01-02T03:04:05.000Z',
      resumable: true,
      ...overrides,
    },
    evaluation: {
      files: ['/data/t10k-images-idx3-ubyte.gz', '/data/t10k-labels-idx1-ubyte.gz'],
      count: 910,
      accuracy: 900 / 910,
      cost: 0.123456,
      confusion: confusion(),
      perClass: Array.from({ length: 10 }, () => ({ precision: 0.5, recall: 0.25, f1: 1 / 3, support: 1234 })),
    },
    mistakes,
    generator: 'fmnist report (test)',
    generatedAt: '2025-01-02T03:04:06.000Z',
  };
}

/** The element names in document order (attributes and text left out): the page's structure. */
function structure(html: string): string[] {
  return [...html.matchAll(/<(\/?[a-zA-Z][\w-]*)/g)].map((m) => m[1]);
}

/** The text of a fact row ("<th scope="row">name</th><td>…</td>"). */
function fact(html: string, name: string): string | undefined {
  return html.match(new RegExp(`<th scope="row">${name}</th><td>(.*?)</td></tr>`))?.[1];
}

describe('escaping', () => {
  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
    expect(escapeHtml('plain text, 1 < 2')).toBe('plain text, 1 &lt; 2');
    // Reads the same, but the file holds no address.
    expect(escapeHtml('see HTTPS://x and http://y, not http-z:')).toBe(
      'see HTTPS&#58;//x and http&#58;//y, not http-z:',
    );
  });

  it('shows a file name as the CLI does (a newline as \\n), then escapes it', () => {
    expect(escapePath('a\nb<c>&"d.safetensors')).toBe('a\\nb&lt;c&gt;&amp;&quot;d.safetensors');
  });

  it('keeps hostile file names from changing the page: same elements as with a plain name', () => {
    const hostile = `</code></td><script>alert("x")</script><img src='http://example.com/a.png'>\n&amp;.safetensors`;
    const plain = reportHtml(data({ file: 'plain.safetensors', dataSources: { train: ['a'], test: null } }));
    const evil = reportHtml(data({ file: hostile, dataSources: { train: [hostile], test: null } }));
    expect(structure(evil)).toEqual(structure(plain));
    expect(evil).not.toContain('<script');
    expect(evil).not.toContain('http://');
    expect(evil).toContain('http&#58;//example.com');
    expect(evil).toContain('&lt;/code&gt;&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(evil).toContain('\\n&amp;amp;.safetensors');
    expect(evil.match(/<title>(.*)<\/title>/)?.[1]).toBe('Model report: a.png&#39;&gt;\\n&amp;amp;.safetensors');
  });
});

describe('groupDigits', () => {
  it('groups thousands with a no-break space', () => {
    expect(groupDigits(1137)).toBe('1\u00a0137');
    expect(groupDigits(10000)).toBe('10\u00a0000');
    expect(groupDigits(1234567)).toBe('1\u00a0234\u00a0567');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(0)).toBe('0');
  });
});

describe('heatColours', () => {
  /** WCAG 2 contrast ratio of two #rrggbb colours, computed here from the definition. */
  function contrast(a: string, b: string): number {
    const luminance = (hex: string): number => {
      const [r, g, b] = [1, 3, 5]
        .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
        .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  }

  it('runs from white to dark blue, darker for larger shares', () => {
    expect(heatColours(0).background).toBe('#ffffff');
    expect(heatColours(1).background).toBe('#08306b');
    const blues = Array.from({ length: 11 }, (_, i) => parseInt(heatColours(i / 10).background.slice(5, 7), 16));
    expect(blues).toEqual([...blues].sort((a, b) => b - a));
    expect(new Set(blues).size).toBe(11);
  });

  it('keeps every cell readable: text contrast at least 4.5 (WCAG AA) at every share', () => {
    for (let i = 0; i <= 1000; i++) {
      const { background, text } = heatColours(i / 1000);
      expect(contrast(background, text), `share ${i / 1000}`).toBeGreaterThanOrEqual(4.5);
    }
    expect(heatColours(0).text).toBe('#000000');
    expect(heatColours(1).text).toBe('#ffffff');
  });
});

describe('reportHtml', () => {
  it('describes the model: file, network, parameters, epochs, settings, data, version and date', () => {
    const html = reportHtml(data());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.match(/<title>(.*)<\/title>/)?.[1]).toBe('Model report: model.safetensors');
    expect(fact(html, 'File')).toBe('<code>runs/model.safetensors</code>');
    expect(fact(html, 'Network')).toMatch(/^784-32-10 /);
    // 784 × 32 + 32 + 32 × 10 + 10
    expect(fact(html, 'Parameters')).toBe('25\u00a0450');
    expect(fact(html, 'Epochs trained')).toBe('3 of the 3 asked for');
    expect(fact(html, 'learning rate')).toBe('0.002');
    expect(fact(html, 'training subset size')).toBe('the first 3\u00a0000 images');
    expect(fact(html, 'Trained on')).toBe(
      '<code>/data/train-images-idx3-ubyte.gz</code> and <code>/data/train-labels-idx1-ubyte.gz</code>, fingerprint <code>0123456789abcdef</code>',
    );
    expect(fact(html, 'Saved by')).toBe('Fashion-MNIST Studio 0.1.0');
    expect(fact(html, 'Saved on')).toBe('2025-01-02T03:04:05.000Z');
    expect(fact(html, 'Test data for this report')).toBe(
      '<code>/data/t10k-images-idx3-ubyte.gz</code> and <code>/data/t10k-labels-idx1-ubyte.gz</code> (<span id="test-count">910</span> images)',
    );
    expect(html).not.toContain('Settings unknown');
  });

  it('says the settings and epochs of a bare state dict are unknown and invents none', () => {
    const html = reportHtml(
      data({
        config: null,
        epochsDone: 0,
        history: [],
        datasetFingerprint: null,
        dataSources: null,
        appVersion: null,
        createdAt: null,
        resumable: false,
      }),
    );
    expect(html).toContain('Settings unknown: the file does not record how the model was trained');
    expect(fact(html, 'Epochs trained')).toBe('unknown');
    expect(fact(html, 'Trained on')).toBe('not recorded');
    expect(fact(html, 'Kind')).toBe('weights only');
    expect(html).not.toMatch(/learning rate|batch size|seed|Saved by|Saved on/);
    expect(html).toContain('The file records no training history, so there is nothing to chart.');
    expect(html).not.toContain('<svg');
  });

  it('lists every data set of a model trained on more than one', () => {
    const html = reportHtml(
      data({
        dataHistory: [
          { fromEpoch: 1, fingerprint: 'aaaaaaaaaaaaaaaa', sources: { train: ['first.csv'], test: null } },
          { fromEpoch: 3, fingerprint: 'bbbbbbbbbbbbbbbb', sources: null },
        ],
      }),
    );
    expect(fact(html, 'Trained on')).toBe(
      '<ul class="segments"><li>from epoch 1: <code>first.csv</code>, fingerprint <code>aaaaaaaaaaaaaaaa</code></li><li>from epoch 3: fingerprint <code>bbbbbbbbbbbbbbbb</code></li></ul>',
    );
  });

  it('tabulates and charts the history, with validation only when there is some', () => {
    const html = reportHtml(data());
    const header = [
      ...html.match(/<table class="numbers" id="history-table"><thead>(.*?)<\/thead>/)![1].matchAll(/<th>(.*?)<\/th>/g),
    ].map((m) => m[1]);
    expect(header).toEqual(['epoch', 'cost', 'train accuracy', 'test accuracy', 'test cost', 'seconds']);
    const body = html.match(/id="history-table">.*?<tbody>(.*?)<\/tbody>/)![1];
    expect(
      [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1])),
    ).toEqual([
      ['1', '1.0000', '60.00%', '70.00%', '0.8000', '1.50'],
      ['2', '0.5000', '70.00%', '75.00%', '0.4000', '1.50'],
      ['3', '0.3333', '80.00%', '80.00%', '0.2667', '1.50'],
    ]);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect([...html.matchAll(/<g class="series" data-series="(\w+)"/g)].map((m) => m[1])).toEqual([
      'train',
      'test',
      'train',
      'test',
    ]);

    const withValidation = reportHtml(data({ history: [epoch(1, null, 0.6), epoch(2, null, 0.65)] }));
    expect(withValidation).toContain('<th>validation cost</th><th>validation accuracy</th>');
    expect(withValidation).toContain('<td>60.00%</td><td>—</td><td>—</td>');
    expect([...withValidation.matchAll(/<g class="series" data-series="(\w+)"/g)].map((m) => m[1])).toEqual([
      'train',
      'validation',
      'train',
      'validation',
    ]);
  });

  it('shows the test results, the confusion matrix with class names and shades, and per-class metrics', () => {
    const html = reportHtml(data());
    expect(html).toContain(
      'Accuracy <strong id="accuracy">98.90%</strong> (900 of 910 images right), cost <strong id="cost">0.1235</strong>',
    );
    const rows = [
      ...html
        .match(/id="confusion-matrix">.*?<tbody>(.*?)<\/tbody>/)![1]
        .matchAll(/<tr><th scope="row"><span class="index">(\d)<\/span> ([^<]*)<\/th>(.*?)<\/tr>/g),
    ];
    expect(rows.map((r) => r[2])).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]);
    expect(rows.map((r) => [...r[3].matchAll(/>(\d+)<\/td>/g)].map((c) => Number(c[1])))).toEqual(confusion());
    // 90 of 100 in row 0: share 0.9; 10 of 100: 0.1.
    expect(rows[0][3]).toContain(
      `<td class="diagonal" style="background-color:${heatColours(0.9).background};color:${heatColours(0.9).text}" title="true T-shirt/top, predicted T-shirt/top: 90 of 100 (90.0%)">90</td>`,
    );
    expect(rows[0][3]).toContain(
      `style="background-color:${heatColours(0.1).background};color:#000000" title="true T-shirt/top, predicted Shirt: 10 of 100 (10.0%)">10</td>`,
    );
    const perClass = html.match(/id="per-class-table">.*?<tbody>(.*?)<\/tbody>/)![1];
    expect(perClass.match(/<tr>.*?<\/tr>/)![0]).toBe(
      '<tr><td><span class="index">0</span> T-shirt/top</td><td>50.0%</td><td>25.0%</td><td>33.3%</td><td>1\u00a0234</td></tr>',
    );
  });

  it('shows every misclassified image given, in the order given, with alt text and the count', () => {
    const png = Uint8Array.of(1, 2, 3, 250);
    const mistakes = [
      { index: 17, predicted: 6, actual: 0, confidence: 0.9876, png },
      { index: 3, predicted: 2, actual: 4, confidence: 0.5, png },
    ];
    const html = reportHtml(data({}, mistakes));
    expect(html).toContain('<p id="mistake-count">2 misclassified images, most confident first.</p>');
    const figures = [
      ...html.matchAll(
        /<figure class="mistake" data-index="(\d+)"><img src="([^"]*)" width="84" height="84" alt="([^"]*)">/g,
      ),
    ];
    expect(figures.map((f) => [Number(f[1]), f[2], f[3]])).toEqual([
      [17, 'data:image/png;base64,AQID+g==', 'Predicted Shirt, true T-shirt/top, 98.8%'],
      [3, 'data:image/png;base64,AQID+g==', 'Predicted Pullover, true Coat, 50.0%'],
    ]);
    expect(html).toMatch(/\.mistake img \{[^}]*image-rendering: pixelated;/);
    expect(reportHtml(data({}, [mistakes[0]]))).toContain(
      '<p id="mistake-count">1 misclassified image, most confident first.</p>',
    );
    expect(reportHtml(data())).toContain('No misclassified images');
  });

  it('refers to nothing outside the file', () => {
    const html = reportHtml(data({}, [{ index: 0, predicted: 1, actual: 0, confidence: 0.7, png: new Uint8Array(8) }]));
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link|<script|@import|url\(|xmlns/);
    for (const src of html.matchAll(/src="([^"]*)"/g)) expect(src[1]).toMatch(/^data:image\/png;base64,/);
  });
});
