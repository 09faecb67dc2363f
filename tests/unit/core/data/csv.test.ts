import { beforeAll, describe, expect, it } from 'vitest';
import { readCsvDataset } from '@core/data/csv';
import { randomDataset, tempDir, toKaggleCsv, writeTemp } from '../../../helpers/data';
import { failureOf } from '../../../helpers/failure';
import { makeFifo, openDescriptorsOf, releaseFifo, within } from '../../../helpers/special-files';

const row = (label: number | string, pixels: (number | string)[]): string => [label, ...pixels].join(',');
const zeros = (n = 784): number[] => new Array(n).fill(0);

describe('readCsvDataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });

  it('reads a Kaggle CSV with and without the header, and with CRLF line ends', async () => {
    const data = randomDataset(25, 3);
    for (const [name, text] of [
      ['with-header.csv', toKaggleCsv(data)],
      ['no-header.csv', toKaggleCsv(data, { header: false })],
      ['crlf.csv', toKaggleCsv(data).replace(/\n/g, '\r\n')],
    ]) {
      const file = await writeTemp(dir, name, text);
      const read = await readCsvDataset(file, { requireLabels: true });
      expect(read.count).toBe(25);
      expect(Buffer.compare(read.images, data.images)).toBe(0);
      expect(Array.from(read.labels)).toEqual(Array.from(data.labels));
    }
  });

  it('reads files with blank lines before the header and with a UTF-8 byte order mark, header or not', async () => {
    const data = randomDataset(7, 11);
    for (const [name, text] of [
      ['blank-first.csv', `\n\n${toKaggleCsv(data)}`],
      ['blank-crlf-first.csv', `\r\n${toKaggleCsv(data).replace(/\n/g, '\r\n')}`],
      ['bom-no-header.csv', `\uFEFF${toKaggleCsv(data, { header: false })}`],
      ['bom-header.csv', `\uFEFF${toKaggleCsv(data)}`],
      ['bom-blank-header.csv', `\uFEFF\n${toKaggleCsv(data)}`],
    ]) {
      const file = await writeTemp(dir, name, text);
      const read = await readCsvDataset(file, { requireLabels: true });
      expect(read.count, name).toBe(7);
      expect(Buffer.compare(read.images, data.images), name).toBe(0);
      expect(Array.from(read.labels), name).toEqual(Array.from(data.labels));
    }
    // Unlabelled, with a byte order mark: the first pixel is 0–255, not "\uFEFF12".
    const unlabelled = await writeTemp(
      dir,
      'bom-unlabelled.csv',
      `\uFEFF${toKaggleCsv(data, { header: false, labels: false })}`,
    );
    expect(Buffer.compare((await readCsvDataset(unlabelled, { requireLabels: false })).images, data.images)).toBe(0);
  });

  it('has closed the file when it hands over the images or the problem (the general reader, through its stream)', async () => {
    const data = randomDataset(20, 9);
    // A byte order mark takes a file past the plain reader to the general one, with its stream.
    const good = await writeTemp(dir, 'bom-closed.csv', `\uFEFF${toKaggleCsv(data)}`);
    const [header, ...rows] = toKaggleCsv(data).split('\n');
    const bad = await writeTemp(
      dir,
      'bom-bad-closed.csv',
      `\uFEFF${[header, ...rows.slice(0, 5), '3,x', ...rows].join('\n')}`,
    );
    // Before the reader waited for its stream to close, 300 reads left the file open after 39 of them.
    for (let read = 0; read < 300; read++) {
      expect((await readCsvDataset(good, { requireLabels: true })).count).toBe(20);
      expect(openDescriptorsOf(good), `open after read ${read + 1}`).toBe(0);
      await expect(readCsvDataset(bad, { requireLabels: true })).rejects.toThrow(/bom-bad-closed\.csv: line 7/);
      expect(openDescriptorsOf(bad), `open after failed read ${read + 1}`).toBe(0);
    }
  });

  it('still refuses a header after the first data row', async () => {
    const data = randomDataset(2, 3);
    const [header, ...rows] = toKaggleCsv(data).split('\n');
    const file = await writeTemp(dir, 'late-header.csv', [rows[0], header, rows[1]].join('\n'));
    await expect(readCsvDataset(file, { requireLabels: true })).rejects.toThrow(
      /late-header\.csv: line 2, column 1: label "label" is not a class number 0–9/,
    );
  });

  it('reads unlabelled rows only where labels are optional', async () => {
    const data = randomDataset(4, 5);
    const file = await writeTemp(dir, 'unlabelled.csv', toKaggleCsv(data, { labels: false }));
    const read = await readCsvDataset(file, { requireLabels: false });
    expect(read.labels).toBeNull();
    expect(Buffer.compare(read.images, data.images)).toBe(0);
    await expect(readCsvDataset(file, { requireLabels: true })).rejects.toThrow(/header has no label column/);
  });

  const cases: [string, string, RegExp][] = [
    ['empty', '', /empty\.csv: is empty$/],
    [
      'header only',
      `label,${zeros()
        .map((_, i) => `pixel${i + 1}`)
        .join(',')}\n`,
      /header-only\.csv: holds no images/,
    ],
    [
      'a short row',
      `${row(1, zeros())}\n${row(2, zeros(783))}\n`,
      /a-short-row\.csv: line 2(, column 784)?: expected 785 columns, found 784/,
    ],
    [
      'a long row',
      `${row(1, zeros())}\n${row(2, zeros(785))}\n`,
      /a-long-row\.csv: line 2, column 786: expected 785 columns, found 786/,
    ],
    [
      'a non-integer pixel',
      `${row(1, zeros())}\n${row(2, [...zeros(10), 'abc', ...zeros(773)])}\n`,
      /line 2, column 12: pixel11 value "abc" is not a whole number 0–255/,
    ],
    [
      'a fractional pixel',
      `${row(1, [...zeros(5), '1.5', ...zeros(778)])}\n`,
      /line 1, column 7: pixel6 value "1\.5" is not a whole number/,
    ],
    [
      'an out-of-range pixel',
      `${row(1, [...zeros(783), 256])}\n`,
      /line 1, column 785: pixel784 value "256" is not a whole number 0–255/,
    ],
    ['a negative pixel', `${row(1, [-1, ...zeros(783)])}\n`, /line 1, column 2: pixel1 value "-1"/],
    [
      'an out-of-range label',
      `${row(3, zeros())}\n${row(10, zeros())}\n`,
      /line 2, column 1: label "10" is not a class number 0–9/,
    ],
    ['a text label', `${row('shoe', zeros())}\n`, /line 1, column 1: label "shoe" is not a class number 0–9/],
    ['the wrong column count', `1,2,3\n`, /line 1: expected 785 \(a label and 784 pixels\) columns, found 3/],
  ];
  it.each(cases)('rejects a file with %s, naming file, line and column', async (title, text, pattern) => {
    const file = await writeTemp(dir, `${title.replace(/ /g, '-')}.csv`, text);
    const error = await readCsvDataset(file, { requireLabels: true }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(pattern);
    expect(error?.message).not.toContain('\n');
  });

  it('refuses a pipe and a device as not regular files, without waiting for a writer', async () => {
    const fifo = makeFifo(dir, 'pipe.csv');
    try {
      const error = await within(
        2000,
        failureOf(readCsvDataset(fifo, { requireLabels: true })),
        'reading a named pipe',
      );
      expect(error.message).toBe(`${fifo}: is not a regular file (a pipe, device or socket)`);
    } finally {
      releaseFifo(fifo);
    }
    const zero = await within(
      1000,
      failureOf(readCsvDataset('/dev/zero', { requireLabels: true })),
      'reading /dev/zero',
    );
    expect(zero.message).toBe('/dev/zero: is not a regular file (a pipe, device or socket)');
  });

  it('reports a missing file and a directory by name', async () => {
    await expect(readCsvDataset(`${dir}/nope.csv`, { requireLabels: true })).rejects.toThrow(
      /nope\.csv: no such file or directory/,
    );
    expect((await failureOf(readCsvDataset(dir, { requireLabels: true }))).message).toBe(
      `${dir}: is a directory, expected a file`,
    );
  });
});
