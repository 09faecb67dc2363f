/** Files opened from outside the dialogs: which arguments are files, what each becomes, and when. */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { BackendEvent, Response, WorkerRequest } from '@core/shared/contract';
import { planOpen, roleOfName } from '@core/shared/open-files';
import { FileOpener, filesFromArgv } from '../../../src/main/file-open';

function opener(answer: (request: WorkerRequest) => Response = () => ({ ok: true })) {
  const requests: WorkerRequest[] = [];
  const notices: BackendEvent[] = [];
  const opened: string[] = [];
  const files = new FileOpener(
    {
      request: async (request) => {
        requests.push(request);
        return answer(request);
      },
    },
    (event) => notices.push(event),
    (path) => opened.push(path),
  );
  return { files, requests, notices, opened };
}

describe('files from outside', () => {
  it('takes the files from a launch’s arguments: after the executable (and the app path when unpackaged), no switches', () => {
    const home = resolve('/home/u');
    const absolute = resolve('/abs/b.csv');
    expect(filesFromArgv(['/opt/Studio/studio', '--no-sandbox', 'runs/a.safetensors', absolute], true, home)).toEqual([
      resolve(home, 'runs/a.safetensors'),
      absolute,
    ]);
    expect(filesFromArgv(['/usr/bin/electron', '.', 'c.safetensors'], false, resolve('/w'))).toEqual([
      resolve('/w', 'c.safetensors'),
    ]);
    expect(filesFromArgv(['/opt/Studio/studio', '-psn_0_123', ''], true, home)).toEqual([]);
    // File managers may hand over URIs.
    const spaced = resolve('/home/u/My Runs/m.safetensors');
    expect(filesFromArgv(['/opt/Studio/studio', pathToFileURL(spaced).href], true, home)).toEqual([spaced]);
  });

  it('names the test set by Fashion-MNIST’s own file names, everything else as training data', () => {
    expect(['t10k-images-idx3-ubyte.gz', 'fashion-mnist_test.csv', '/x/TEST.csv'].map(roleOfName)).toEqual([
      'test',
      'test',
      'test',
    ]);
    expect(
      ['train-images-idx3-ubyte', 'fashion-mnist_train.csv', 'mine.csv', '/tests-folder/../a.csv'].map(roleOfName),
    ).toEqual(['train', 'train', 'train', 'train']);
    expect(planOpen(['a.safetensors', 'b.SafeTensors', 'x.csv'], (n) => n, 'test')).toEqual({
      checkpoint: 'b.SafeTensors',
      train: [],
      test: ['x.csv'],
    });
  });

  it('loads the four IDX files as both sets and a checkpoint as the model', async () => {
    const { files, requests, opened } = opener();
    const response = await files.open(
      [
        '/d/train-images-idx3-ubyte',
        '/d/t10k-labels-idx1-ubyte',
        '/d/train-labels-idx1-ubyte',
        '/d/t10k-images-idx3-ubyte',
        '/d/m.safetensors',
      ],
      null,
    );
    expect(response.ok).toBe(true);
    expect(requests).toEqual([
      { type: 'load-dataset', role: 'train', paths: ['/d/train-images-idx3-ubyte', '/d/train-labels-idx1-ubyte'] },
      { type: 'load-dataset', role: 'test', paths: ['/d/t10k-labels-idx1-ubyte', '/d/t10k-images-idx3-ubyte'] },
      { type: 'load-checkpoint', path: '/d/m.safetensors', replaceUnsaved: false },
    ]);
    expect(opened).toEqual(['/d/m.safetensors']);
  });

  it('tries every file and answers with the failures joined in one line; a failed checkpoint is not recent', async () => {
    const { files, opened } = opener((request) => ({ ok: false, error: `${request.type} failed` }));
    expect(await files.open(['/d/a.csv', '/d/m.safetensors'], null)).toEqual({
      ok: false,
      error: 'load-dataset failed — load-checkpoint failed',
    });
    expect(opened).toEqual([]);
  });

  it('holds files until the page is ready, then reports failures as notices; nothing when nothing was given', async () => {
    const { files, requests, notices } = opener(() => ({ ok: false, error: '/d/m.safetensors: not a checkpoint' }));
    await files.openFromOutside(['/d/m.safetensors']);
    await files.openFromOutside([]);
    expect(requests).toEqual([]);
    files.pageReady();
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(requests).toEqual([{ type: 'load-checkpoint', path: '/d/m.safetensors', replaceUnsaved: false }]);
    expect(notices).toEqual([{ type: 'notice', tone: 'error', message: '/d/m.safetensors: not a checkpoint' }]);
    files.pageGone();
    await files.openFromOutside(['/d/other.safetensors']);
    expect(requests).toHaveLength(1);
  });
});
