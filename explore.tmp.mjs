import { spawn } from 'node:child_process';
import { chromium } from '@playwright/test';
const child = spawn(process.execPath, ['out/node/web.js'], { env: { ...process.env, FMNIST_DATA: '/usr/share/datasets/fashion-mnist', FMNIST_STUDIO_DATA: '/tmp/explore-data' }, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => { let o = ''; child.stdout.on('data', (c) => { o += c; const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(o); if (m) r(m[1]); }); });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(url);
await page.getByText('60,000').first().waitFor({ timeout: 30000 }).catch((e) => console.log('no autoload?', e.message));
await page.screenshot({ path: '/tmp/shots/0-start.png' });
await page.getByLabel('Epochs', { exact: true }).fill('2');
await page.getByLabel('Training subset size', { exact: true }).fill('10000');
await page.getByRole('button', { name: 'Start', exact: true }).click();
await page.getByRole('status').filter({ hasText: 'Finished 2 epochs.' }).waitFor({ timeout: 120000 });
for (const tab of ['Gallery', 'Evaluation', 'Draw', 'Network']) {
  await page.getByRole('tab', { name: tab }).click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `/tmp/shots/${tab}.png` });
}
await page.getByRole('tab', { name: 'Gallery' }).click();
await page.getByRole('img', { name: /^Predicted/ }).first().click();
await page.waitForTimeout(500);
await page.screenshot({ path: `/tmp/shots/gallery-details.png` });
await browser.close();
child.kill('SIGINT');
