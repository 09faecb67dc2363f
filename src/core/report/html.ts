/**
 * The model report as one self-contained HTML page (`fmnist report`): what the model is and how it was
 * trained, its training history as a table and charts, its accuracy and cost on a test set, the confusion
 * matrix as a heat map, per-class metrics and every misclassified image. Built from plain data; nothing in
 * it refers outside the file (styles inline, charts as inline SVG, images as data URIs), so it opens and
 * prints offline. Every string from outside is escaped.
 */

import type { DataSegment, DataSources } from '../checkpoint/checkpoint';
import { FIELD_LABELS, type RunConfig } from '@core/shared/config';
import { CLASS_NAMES } from '@core/shared/dataset';
import type { ClassMetrics } from '@core/shared/classification';
import { describeShape, type MlpShape, parameterCount } from '@core/shared/mlp';
import type { EpochSummary } from '@core/shared/events';
import { escapeHtml, escapePath } from './escape';
import { heatColours } from '@core/shared/heat';

export { heatColours, relativeLuminance } from '@core/shared/heat';
import { type ChartSeries, lineChartSvg } from './svg-chart';

/** What the checkpoint says about the model. */
export interface ReportModel {
  /** The checkpoint's path as the user gave it. */
  file: string;
  shape: MlpShape;
  /** null for a bare state dict: the settings are unknown. */
  config: RunConfig | null;
  epochsDone: number;
  history: EpochSummary[];
  datasetFingerprint: string | null;
  dataSources: DataSources | null;
  dataHistory: DataSegment[] | null;
  appVersion: string | null;
  createdAt: string | null;
  /** Holds Adam's state, so training can continue from it. */
  resumable: boolean;
}

/** The model measured on the test set now. */
export interface ReportEvaluation {
  /** The test data's files (images first). */
  files: string[];
  count: number;
  accuracy: number;
  /** Mean cross-entropy. */
  cost: number;
  /** counts[true][predicted]. */
  confusion: number[][];
  perClass: ClassMetrics[];
}

export interface ReportMistake {
  /** Position in the test set, from 0. */
  index: number;
  predicted: number;
  actual: number;
  /** The probability the model gave its prediction. */
  confidence: number;
  png: Uint8Array;
}

export interface ReportData {
  model: ReportModel;
  evaluation: ReportEvaluation;
  /** Most confident first. */
  mistakes: ReportMistake[];
  /** Who made the report and when (ISO 8601). */
  generator: string;
  generatedAt: string;
}

/** The gallery shows images three times their size, pixels kept square. */
export const THUMBNAIL_SCALE = 3;

/** 1137 → "1 137" (a no-break space between groups of three digits). */
export function groupDigits(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
}

const percent = (fraction: number, digits: number): string => `${(fraction * 100).toFixed(digits)}%`;
const orDash = (value: number | null, format: (v: number) => string): string => (value === null ? '—' : format(value));

/** The file's name without its folders (either separator). */
function baseName(path: string): string {
  return (
    path
      .split(/[\\/]/)
      .filter((part) => part !== '')
      .pop() ?? path
  );
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function row(cells: string[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
}

function factsTable(facts: [string, string][]): string {
  return `<table class="facts"><tbody>${facts.map(([name, value]) => `<tr><th scope="row">${name}</th><td>${value}</td></tr>`).join('')}</tbody></table>`;
}

function filesList(files: string[]): string {
  return files.map((f) => `<code>${escapePath(f)}</code>`).join(' and ');
}

function settingValue(key: keyof RunConfig, config: RunConfig): string {
  const value = config[key];
  switch (key) {
    case 'hiddenSizes':
      return config.hiddenSizes.length ? config.hiddenSizes.join(', ') : 'none';
    case 'validationFraction':
      return config.validationFraction === 0
        ? '0 (no validation set)'
        : `${config.validationFraction} (${percent(config.validationFraction, 1)} of the training data)`;
    case 'limit':
      return config.limit === 0 ? 'all the training data' : `the first ${groupDigits(config.limit)} images`;
    case 'threads':
      return config.threads === 0
        ? 'one per CPU core (the results do not depend on it)'
        : `${config.threads} (the results do not depend on it)`;
    case 'flip':
    case 'restoreBest':
      return value ? 'yes' : 'no';
    default:
      return escapeHtml(String(value));
  }
}

function settingsSection(config: RunConfig | null): string {
  if (!config) {
    return '<p class="unknown" id="settings-unknown">Settings unknown: the file does not record how the model was trained (a bare state dict).</p>';
  }
  const keys = Object.keys(FIELD_LABELS) as (keyof RunConfig)[];
  return factsTable(keys.map((key) => [escapeHtml(FIELD_LABELS[key]), settingValue(key, config)]));
}

function sourcesText(sources: DataSources | null, fingerprint: string | null): string {
  const parts: string[] = [];
  if (sources?.train.length) parts.push(filesList(sources.train));
  if (fingerprint) parts.push(`fingerprint <code>${escapeHtml(fingerprint)}</code>`);
  return parts.length ? parts.join(', ') : 'not recorded';
}

function trainingDataFacts(model: ReportModel): [string, string][] {
  if (model.dataHistory && model.dataHistory.length > 1) {
    const items = model.dataHistory.map(
      (segment) => `<li>from epoch ${segment.fromEpoch}: ${sourcesText(segment.sources, segment.fingerprint)}</li>`,
    );
    return [['Trained on', `<ul class="segments">${items.join('')}</ul>`]];
  }
  const facts: [string, string][] = [['Trained on', sourcesText(model.dataSources, model.datasetFingerprint)]];
  if (model.dataSources?.test?.length) facts.push(['Tested during training on', filesList(model.dataSources.test)]);
  return facts;
}

function modelSection(data: ReportData): string {
  const { model, evaluation } = data;
  const bare = !model.config && model.epochsDone === 0;
  const epochs = bare
    ? 'unknown'
    : `${model.epochsDone}${model.config ? ` of the ${model.config.epochs} asked for` : ''}`;
  const facts: [string, string][] = [
    ['File', `<code>${escapePath(model.file)}</code>`],
    ['Network', `${escapeHtml(describeShape(model.shape))} (fully connected, ReLU hidden layers, softmax output)`],
    ['Parameters', groupDigits(parameterCount(model.shape))],
    ['Epochs trained', epochs],
    ['Kind', model.resumable ? 'a resumable checkpoint (with the optimizer state)' : 'weights only'],
    ...trainingDataFacts(model),
  ];
  if (model.appVersion) facts.push(['Saved by', `Fashion-MNIST Studio ${escapeHtml(model.appVersion)}`]);
  if (model.createdAt) facts.push(['Saved on', escapeHtml(model.createdAt)]);
  facts.push([
    'Test data for this report',
    `${filesList(evaluation.files)} (<span id="test-count">${groupDigits(evaluation.count)}</span> images)`,
  ]);
  return `<section id="model"><h2>The model</h2>${factsTable(facts)}<h3>Settings</h3>${settingsSection(model.config)}</section>`;
}

const TRAIN_STYLE = { colour: '#0072b2', dash: '', marker: 'circle' } as const;
const VALIDATION_STYLE = { colour: '#d55e00', dash: '8 4', marker: 'square' } as const;
const TEST_STYLE = { colour: '#009e73', dash: '2 3', marker: 'diamond' } as const;

/** The series that have at least one value. */
function present(series: ChartSeries[]): ChartSeries[] {
  return series.filter((s) => s.values.some((v) => v !== null));
}

function historySection(history: EpochSummary[]): string {
  if (history.length === 0) {
    return '<section id="history"><h2>Training history</h2><p id="no-history">The file records no training history, so there is nothing to chart.</p></section>';
  }
  const x = history.map((h) => h.epoch);
  const accuracy = lineChartSvg({
    id: 'accuracy-chart',
    title: 'Accuracy per epoch',
    xLabel: 'Epoch',
    yLabel: 'Accuracy',
    yPercent: true,
    x,
    series: present([
      { name: 'train', values: history.map((h) => h.trainAccuracy), ...TRAIN_STYLE },
      { name: 'validation', values: history.map((h) => h.validationAccuracy), ...VALIDATION_STYLE },
      { name: 'test', values: history.map((h) => h.testAccuracy), ...TEST_STYLE },
    ]),
  });
  const cost = lineChartSvg({
    id: 'cost-chart',
    title: 'Cost (cross-entropy) per epoch',
    xLabel: 'Epoch',
    yLabel: 'Cost (cross-entropy)',
    x,
    series: present([
      { name: 'train', values: history.map((h) => h.cost), ...TRAIN_STYLE },
      { name: 'validation', values: history.map((h) => h.validationCost), ...VALIDATION_STYLE },
      { name: 'test', values: history.map((h) => h.testCost), ...TEST_STYLE },
    ]),
  });
  const validation = history.some((h) => h.validationAccuracy !== null || h.validationCost !== null);
  const header = [
    'epoch',
    'cost',
    'train accuracy',
    ...(validation ? ['validation cost', 'validation accuracy'] : []),
    'test accuracy',
    'test cost',
    'seconds',
  ];
  const rows = history.map((h) =>
    row([
      String(h.epoch),
      h.cost.toFixed(4),
      percent(h.trainAccuracy, 2),
      ...(validation
        ? [orDash(h.validationCost, (v) => v.toFixed(4)), orDash(h.validationAccuracy, (v) => percent(v, 2))]
        : []),
      orDash(h.testAccuracy, (v) => percent(v, 2)),
      orDash(h.testCost, (v) => v.toFixed(4)),
      h.seconds.toFixed(2),
    ]),
  );
  return (
    '<section id="history"><h2>Training history</h2>' +
    '<p class="note">Train cost and accuracy are measured on each batch before its update; validation and test after each epoch.</p>' +
    `<figure class="chart">${accuracy}</figure><figure class="chart">${cost}</figure>` +
    `<table class="numbers" id="history-table"><thead>${row(header, true)}</thead><tbody>${rows.join('')}</tbody></table></section>`
  );
}

function resultsSection(evaluation: ReportEvaluation): string {
  const correct = evaluation.confusion.reduce((sum, r, c) => sum + r[c], 0);
  return (
    '<section id="results"><h2>Test results</h2>' +
    `<p class="headline">Accuracy <strong id="accuracy">${percent(evaluation.accuracy, 2)}</strong> ` +
    `(${groupDigits(correct)} of ${groupDigits(evaluation.count)} images right), ` +
    `cost <strong id="cost">${evaluation.cost.toFixed(4)}</strong> (mean cross-entropy).</p></section>`
  );
}

function confusionSection(confusion: number[][]): string {
  const header = `<tr><th scope="col" class="corner">true ↓ predicted →</th>${CLASS_NAMES.map((name, c) => `<th scope="col"><span class="index">${c}</span> ${escapeHtml(name)}</th>`).join('')}</tr>`;
  const rows = confusion.map((counts, actual) => {
    const total = counts.reduce((a, b) => a + b, 0);
    const cells = counts.map((count, predicted) => {
      const share = total ? count / total : 0;
      const { background, text } = heatColours(share);
      const title = `true ${CLASS_NAMES[actual]}, predicted ${CLASS_NAMES[predicted]}: ${count} of ${total} (${percent(share, 1)})`;
      const diagonal = actual === predicted ? ' class="diagonal"' : '';
      return `<td${diagonal} style="background-color:${background};color:${text}" title="${escapeHtml(title)}">${count}</td>`;
    });
    return `<tr><th scope="row"><span class="index">${actual}</span> ${escapeHtml(CLASS_NAMES[actual])}</th>${cells.join('')}</tr>`;
  });
  return (
    '<section id="confusion"><h2>Confusion matrix</h2>' +
    '<p class="note">Rows: the true class; columns: the predicted class; each cell the number of test images. ' +
    "The shade is the share of the row (square-root scale), so the diagonal holds each class's recall.</p>" +
    `<table class="confusion" id="confusion-matrix"><thead>${header}</thead><tbody>${rows.join('')}</tbody></table></section>`
  );
}

function perClassSection(perClass: ClassMetrics[]): string {
  const rows = perClass.map((m, c) =>
    row([
      `<span class="index">${c}</span> ${escapeHtml(CLASS_NAMES[c])}`,
      percent(m.precision, 1),
      percent(m.recall, 1),
      percent(m.f1, 1),
      groupDigits(m.support),
    ]),
  );
  return (
    '<section id="per-class"><h2>Per class</h2>' +
    '<p class="note">Precision: of the images predicted as the class, the share that are; recall: of the images of the class, the share found; F1: their harmonic mean; support: images of the class.</p>' +
    `<table class="numbers" id="per-class-table"><thead>${row(['class', 'precision', 'recall', 'F1', 'support'], true)}</thead><tbody>${rows.join('')}</tbody></table></section>`
  );
}

function gallerySection(mistakes: ReportMistake[]): string {
  if (mistakes.length === 0) {
    return '<section id="mistakes"><h2>Misclassified images</h2><p id="mistake-count">No misclassified images: every test image was classified right.</p></section>';
  }
  const size = 28 * THUMBNAIL_SCALE;
  const figures = mistakes.map((m) => {
    const predicted = escapeHtml(CLASS_NAMES[m.predicted]);
    const actual = escapeHtml(CLASS_NAMES[m.actual]);
    const confidence = percent(m.confidence, 1);
    return (
      `<figure class="mistake" data-index="${m.index}">` +
      `<img src="data:image/png;base64,${base64(m.png)}" width="${size}" height="${size}" alt="Predicted ${predicted}, true ${actual}, ${confidence}">` +
      `<figcaption><span class="predicted">${predicted}</span> <span class="confidence">${confidence}</span><br>` +
      `<span class="true">true ${actual}</span><br><span class="index">#${m.index}</span></figcaption></figure>`
    );
  });
  const noun = mistakes.length === 1 ? 'image' : 'images';
  return (
    '<section id="mistakes"><h2>Misclassified images</h2>' +
    `<p id="mistake-count">${groupDigits(mistakes.length)} misclassified ${noun}, most confident first.</p>` +
    '<p class="note">Each shows the predicted class and the probability the model gave it, the true class, and the image\'s position in the test set (from 0).</p>' +
    `<div class="gallery">${figures.join('')}</div></section>`
  );
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111; background: #fff;
  max-width: 1100px; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #bbb; padding-bottom: 0.2rem; }
.subtitle { margin-top: 0; font-size: 1.1rem; color: #333; word-break: break-all; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
.note { color: #444; font-size: 0.9rem; }
.unknown { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { padding: 0.25rem 0.5rem; }
.facts th { text-align: left; vertical-align: top; font-weight: 600; padding-right: 1.5rem; }
.facts ul { margin: 0; padding-left: 1.2rem; }
.numbers th, .numbers td { border-bottom: 1px solid #ddd; text-align: right; }
.numbers th:first-child, .numbers td:first-child { text-align: left; }
.numbers td { font-variant-numeric: tabular-nums; }
.headline { font-size: 1.25rem; }
figure.chart { margin: 1rem 0; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
svg.chart text { fill: #111; }
.confusion th, .confusion td { border: 1px solid #999; }
.confusion thead th { font-size: 0.8rem; vertical-align: bottom; max-width: 5.5rem; }
.confusion tbody th { text-align: left; white-space: nowrap; }
.confusion td { text-align: right; min-width: 3rem; font-variant-numeric: tabular-nums; }
.confusion td.diagonal { font-weight: 700; }
.index { color: inherit; opacity: 0.7; font-variant-numeric: tabular-nums; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(7rem, 1fr)); gap: 0.75rem 0.5rem; }
.mistake { margin: 0; text-align: center; font-size: 0.75rem; break-inside: avoid; }
.mistake img { display: block; margin: 0 auto 0.2rem; image-rendering: pixelated; border: 1px solid #bbb; }
.mistake .predicted { font-weight: 700; }
footer { margin-top: 3rem; color: #555; font-size: 0.85rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  figure.chart, table { break-inside: avoid; }
}
`;

/** The whole report page. */
export function reportHtml(data: ReportData): string {
  const name = escapePath(baseName(data.model.file));
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Model report: ${name}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>Fashion-MNIST model report</h1><p class="subtitle">${name}</p></header>`,
    modelSection(data),
    historySection(data.model.history),
    resultsSection(data.evaluation),
    confusionSection(data.evaluation.confusion),
    perClassSection(data.evaluation.perClass),
    gallerySection(data.mistakes),
    `<footer>Made by ${escapeHtml(data.generator)} on ${escapeHtml(data.generatedAt)}.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
