#!/usr/bin/env python3
"""Continues a Fashion-MNIST Studio training run in PyTorch: on the CPU, a GPU, or several GPUs.

`fmnist export --format pytorch` writes this file beside the checkpoint it continues. It reads the
data the app reads (the IDX files, gzipped or not, or Kaggle's CSVs), takes the run up where the
checkpoint left it, and trains it as the app's trainer does: the same network and Adam (or AdamW)
state, the learning-rate schedule at its position, the same shuffles, dropout masks, shifts and
flips (the app's counter-based hashes, computed here the same way), label smoothing, the validation
split and early stopping. After every epoch it writes a checkpoint in the app's own format, which
`fmnist info`, `evaluate`, `report`, `train --resume` and the app's Load checkpoint read as if the
app had trained it.

It needs only PyTorch (1.13 or later) and NumPy. `python3 train.py --help` lists the options;
README.txt beside it has the commands for one GPU and for several.
"""

import argparse
import datetime
import gzip
import json
import math
import os
import signal
import struct
import sys
import time
import warnings
import zlib

PROGRAM = 'train.py'
IMAGE_WIDTH = 28
IMAGE_SIZE = IMAGE_WIDTH * IMAGE_WIDTH
CLASSES = 10
MASK32 = 0xFFFFFFFF
CHECKPOINT_FORMAT = 'fashion-mnist-studio'
CHECKPOINT_VERSION = 1
# The app's bounds on the per-batch cost curve it keeps (in memory, and in a checkpoint).
COST_POINTS_PER_EPOCH = 100
MAX_STORED_COST_POINTS = 20_000
MAX_COST_CURVE = 2000
# Rows per evaluation pass: bounded memory on any device.
EVALUATION_ROWS = 8192


class Refusal(Exception):
    """A problem the user can fix, said in one line (naming the file where there is one)."""


WEIGHTS_ONLY = ('holds only model weights (no optimizer state): it can be evaluated or exported, '
                'not resumed')


class Stopped(Exception):
    """A stop signal arrived: the epoch in progress is dropped; the last whole one is saved."""

    def __init__(self, name, code):
        super().__init__(name)
        self.name = name
        self.code = code
        # What --out holds when the stop arrives: set once training has begun.
        self.saved = None


def stop_on_signals():
    """Ctrl-C, SIGTERM (kill, a job scheduler) and SIGHUP end the run at once: the epoch in
    progress is dropped, and --out already holds the last whole one."""
    codes = {'SIGINT': 130, 'SIGTERM': 143, 'SIGHUP': 129}
    for name, code in codes.items():
        if hasattr(signal, name):
            def handler(_number, _frame, name=name, code=code):
                raise Stopped(name, code)
            signal.signal(getattr(signal, name), handler)


if __name__ == '__main__':
    # From the start, so a stop while PyTorch loads (seconds) ends quietly too.
    stop_on_signals()

try:
    import numpy as np
    import torch
    import torch.distributed as dist
except ImportError as missing:
    print(f'{PROGRAM}: needs PyTorch 1.13 or later and NumPy ({missing}); '
          'install them with: python3 -m pip install torch numpy', file=sys.stderr)
    sys.exit(2)
except Stopped as stop:
    sys.exit(stop.code)


# --------------------------------------------------------------------------------------------------
# Random numbers, exactly as the app draws them (src/core/shared/random.ts and
# src/core/engine/recipes.ts).
# JavaScript computes them in 32-bit integers; here every result is masked to 32 bits.


def imul(a, b):
    """Math.imul: the low 32 bits of a product."""
    return (a * b) & MASK32


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK32


def splitmix32(seed):
    state = seed & MASK32

    def next_word():
        nonlocal state
        state = (state + 0x9E3779B9) & MASK32
        z = state
        z = imul(z ^ (z >> 16), 0x85EBCA6B)
        z = imul(z ^ (z >> 13), 0xC2B2AE35)
        return z ^ (z >> 16)

    return next_word


def hash_string(text):
    h = 0x811C9DC5
    for character in text:
        h = imul(h ^ ord(character), 0x01000193)
    return h


class Random:
    """xoshiro128** seeded through splitmix32: the app's shuffle and validation-split generator."""

    def __init__(self, state):
        self.s = [word & MASK32 for word in state]

    @classmethod
    def from_seed(cls, seed, stream):
        next_word = splitmix32((seed & MASK32) ^ hash_string(stream))
        state = [next_word() for _ in range(4)]
        if not any(state):
            state[0] = 1
        return cls(state)

    def state(self):
        return list(self.s)

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = imul(rotl(imul(s1, 5), 7), 9)
        t = (s1 << 9) & MASK32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.s = [s0, s1, s2, rotl(s3, 11)]
        return result

    def next_float(self):
        """A double in [0, 1) from 53 random bits."""
        high = self.next_uint32() >> 5
        low = self.next_uint32() >> 6
        return (high * 67108864 + low) / 9007199254740992

    def next_int(self, n):
        return math.floor(self.next_float() * n)

    def shuffle(self, values):
        """Fisher–Yates in place, drawing in the app's order."""
        for i in range(len(values) - 1, 0, -1):
            j = self.next_int(i + 1)
            values[i], values[j] = values[j], values[i]


def mix32(x):
    """Chris Wellons' lowbias32 on one 32-bit word."""
    x &= MASK32
    x ^= x >> 16
    x = imul(x, 0x7FEB352D)
    x ^= x >> 15
    x = imul(x, 0x846CA68B)
    return x ^ (x >> 16)


ROW_SPREAD = 0x9E3779B1
UNIT_SPREAD = 0x85EBCA77
STREAMS = {'dropout': 0x64726F70, 'augment': 0x61756720}


def step_key(seed, stream, step):
    """The key of one recipe's random choices at one Adam step of the run."""
    return mix32(mix32((seed ^ STREAMS[stream]) & MASK32) + step)


def mul32(x, constant):
    """x · constant mod 2³² for an int64 tensor of 32-bit words, in halves so nothing overflows."""
    low = x * (constant & 0xFFFF)
    high = (x * (constant >> 16)) & 0xFFFF
    return (low + (high << 16)) & MASK32


def mix32_tensor(x):
    """lowbias32 on every word of an int64 tensor."""
    x = x ^ (x >> 16)
    x = mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def row_keys(key, rows):
    """The key of each batch row's choices (rows numbered within the whole batch)."""
    return mix32_tensor(key ^ mul32(rows, ROW_SPREAD))


def dropout_threshold(probability):
    """A unit is kept when its hash is at least this (JavaScript's Math.round is floor(x + 0.5))."""
    return min(MASK32, math.floor(probability * 2 ** 32 + 0.5))


# --------------------------------------------------------------------------------------------------
# Data: the app's readers and its fingerprint (src/core/data, src/core/shared/dataset.ts).

IDX_NAMES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
CSV_NAMES = {'train': 'fashion-mnist_train.csv', 'test': 'fashion-mnist_test.csv'}


def read_bytes(path):
    try:
        with open(path, 'rb') as file:
            return file.read()
    except OSError as error:
        raise Refusal(f'{path}: cannot be read ({error.strerror or error})') from None


def read_idx(path, kind):
    """An IDX images (N × 784 bytes) or labels (N bytes) file, gzipped or not."""
    raw = read_bytes(path)
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise Refusal(f'{path}: is not valid gzip data ({error})') from None
    magic, dimensions = (0x803, 3) if kind == 'images' else (0x801, 1)
    head = 4 + 4 * dimensions
    if len(raw) < head or int.from_bytes(raw[:4], 'big') != magic:
        raise Refusal(f'{path}: is not an IDX {kind} file '
                      f'(expected the magic number 0x{magic:08x})')
    sizes = struct.unpack(f'>{dimensions}I', raw[4:head])
    if kind == 'images' and sizes[1:] != (IMAGE_WIDTH, IMAGE_WIDTH):
        raise Refusal(f'{path}: holds {sizes[1]}×{sizes[2]} images, expected 28×28')
    expected = head + sizes[0] * (IMAGE_SIZE if kind == 'images' else 1)
    if len(raw) < expected:
        raise Refusal(f'{path}: is truncated: it announces {sizes[0]} {kind} but holds fewer')
    if len(raw) > expected:
        raise Refusal(f'{path}: has {len(raw) - expected} bytes after its last record')
    values = np.frombuffer(raw, dtype=np.uint8, offset=head)
    if kind == 'labels' and values.size and int(values.max()) >= CLASSES:
        raise Refusal(f'{path}: record {int(np.argmax(values >= CLASSES)) + 1}: '
                      f'label {int(values.max())} is not a class number 0–9')
    return values.reshape(-1, IMAGE_SIZE) if kind == 'images' else values


def read_csv(path):
    """Kaggle's CSV: an optional header, then `label,pixel1,…,pixel784` per line (blank lines
    skipped)."""
    raw = read_bytes(path)
    if raw.startswith(b'\xef\xbb\xbf'):
        raw = raw[3:]
    try:
        lines = raw.decode('utf-8').splitlines()
    except UnicodeDecodeError:
        raise Refusal(f'{path}: is not a text file') from None
    rows = []
    numbers = []
    header_allowed = True
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if header_allowed and line.lstrip(' "').lower().startswith(('label', 'pixel1')):
            if line.count(',') != IMAGE_SIZE:
                raise Refusal(f'{path}: line {number}: the header has {line.count(",") + 1} '
                              'columns, expected 785 (label,pixel1,…,pixel784)')
            header_allowed = False
            continue
        header_allowed = False
        if line.count(',') != IMAGE_SIZE:
            raise Refusal(f'{path}: line {number}: expected 785 columns (a label and 784 pixels), '
                          f'found {line.count(",") + 1}')
        rows.append(line)
        numbers.append(number)
    if not rows:
        raise Refusal(f'{path}: holds no images (only a header or blank lines)')
    table = np.empty((len(rows), IMAGE_SIZE + 1), dtype=np.uint8)
    block = 4096
    for start in range(0, len(rows), block):
        part = rows[start:start + block]
        values = parse_numbers(','.join(part))
        if values is None or values.size != len(part) * (IMAGE_SIZE + 1):
            values = None
        else:
            values = values.reshape(len(part), IMAGE_SIZE + 1)
        bad = first_bad_row(part, values)
        if bad is not None:
            row, problem = bad
            raise Refusal(f'{path}: line {numbers[start + row]}: {problem}')
        if values is None:
            # Every cell is a whole number in range, but NumPy's reader took them otherwise.
            values = np.array([[int(cell) for cell in line.split(',')] for line in part])
        table[start:start + len(part)] = values
    return np.ascontiguousarray(table[:, 1:]), np.ascontiguousarray(table[:, 0])


def parse_numbers(text):
    """Whole numbers separated by commas, or None when some cell is not one."""
    with warnings.catch_warnings():
        # NumPy warns (instead of failing) when a cell does not parse: treat that as a failure.
        warnings.simplefilter('error')
        try:
            return np.fromstring(text, dtype=np.int64, sep=',')
        except (ValueError, DeprecationWarning):
            return None


def first_bad_row(part, values):
    """The first row of a block with a bad label or pixel, and what is wrong; or None."""
    if values is not None:
        bad = (values[:, 0] < 0) | (values[:, 0] >= CLASSES) | (values[:, 1:] < 0).any(1) \
            | (values[:, 1:] > 255).any(1)
        if not bad.any():
            return None
        candidates = [int(np.argmax(bad))]
    else:
        candidates = range(len(part))
    for row in candidates:
        cells = part[row].split(',')
        for column, cell in enumerate(cells):
            text = cell.strip()
            limit = CLASSES - 1 if column == 0 else 255
            if not text.isdigit() or int(text) > limit:
                what = 'label' if column == 0 else f'pixel{column} value'
                kind = 'a class number 0–9' if column == 0 else 'a whole number 0–255'
                return row, f'{what} "{cell}" is not {kind}'
    return None


def exists(path):
    return os.path.isfile(path)


def idx_variants(folder, name):
    dotted = name.replace('-idx', '.idx', 1)
    return [os.path.join(folder, n) for n in (name, name + '.gz', dotted, dotted + '.gz')]


def find_in_folder(folder, role):
    """A role's data set in a folder: the IDX files (gzipped or not) or Kaggle's CSV; else None."""
    images_name, labels_name = IDX_NAMES[role]
    images = next((p for p in idx_variants(folder, images_name) if exists(p)), None)
    if images:
        labels = next((p for p in idx_variants(folder, labels_name) if exists(p)), None)
        if not labels:
            raise Refusal(f'{folder}: found {os.path.basename(images)} but not its labels file '
                          f'{labels_name}[.gz]')
        return {'format': 'idx', 'files': [images, labels]}
    csv = os.path.join(folder, CSV_NAMES[role])
    return {'format': 'csv', 'files': [csv]} if exists(csv) else None


def labels_beside(images):
    name = os.path.basename(images)
    swapped = name.replace('images', 'labels').replace('idx3', 'idx1')
    if swapped == name:
        return None
    plain = swapped[:-3] if swapped.endswith('.gz') else swapped
    folder = os.path.dirname(images)
    for candidate in (swapped, plain, plain + '.gz'):
        if exists(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    return None


def resolve_data(path, role):
    """What a data path names: a CSV, an IDX images file (labels beside it) or a folder."""
    if os.path.isdir(path):
        found = find_in_folder(path, role)
        if not found:
            images, labels = IDX_NAMES[role]
            raise Refusal(f'{path}: holds no {role} data: expected {images}[.gz] and '
                          f'{labels}[.gz], or {CSV_NAMES[role]}')
        return found
    if not os.path.exists(path):
        raise Refusal(f'{path}: no such file or directory')
    if path.lower().endswith('.csv'):
        return {'format': 'csv', 'files': [path]}
    head = read_bytes(path)[:4]
    if head[:2] != b'\x1f\x8b' and head[:3] != b'\x00\x00\x08':
        return {'format': 'csv', 'files': [path]}
    if head == b'\x00\x00\x08\x01' or 'labels' in os.path.basename(path):
        raise Refusal(f'{path}: is an IDX labels file: pass the images file, its labels are '
                      'found beside it')
    labels = labels_beside(path)
    if not labels:
        raise Refusal(f'{path}: found no labels file beside it')
    return {'format': 'idx', 'files': [path, labels]}


def default_places():
    """Where the app looks without a path: $FMNIST_DATA, then Debian's package and Keras' cache
    (or the folders of $FMNIST_DATA_PATH instead of those two)."""
    places = [os.environ['FMNIST_DATA']] if os.environ.get('FMNIST_DATA') else []
    if 'FMNIST_DATA_PATH' in os.environ:
        places += [p for p in os.environ['FMNIST_DATA_PATH'].split(os.pathsep) if p]
    else:
        places += ['/usr/share/datasets/fashion-mnist',
                   os.path.join(os.path.expanduser('~'), '.keras', 'datasets', 'fashion-mnist')]
    return places


def locate_data(train_path, test_path):
    if train_path:
        train = resolve_data(train_path, 'train')
        test = find_in_folder(train_path, 'test') if os.path.isdir(train_path) else None
    else:
        places = default_places()
        found = next(((p, find_in_folder(p, 'train')) for p in places if os.path.isdir(p)
                      and find_in_folder(p, 'train')), None)
        if not found:
            looked = ', '.join(places) or 'no folder'
            raise Refusal(f'no Fashion-MNIST data found; looked in {looked}. '
                          'Pass --train PATH (a CSV, an IDX images file or a folder)')
        train, test = found[1], find_in_folder(found[0], 'test')
    if test_path:
        test = resolve_data(test_path, 'test')
    return train, test


def load_data(found):
    """Images (N × 784 bytes) and labels of a located data set, with the files they came from."""
    if found['format'] == 'csv':
        images, labels = read_csv(found['files'][0])
    else:
        images = read_idx(found['files'][0], 'images')
        labels = read_idx(found['files'][1], 'labels')
        if len(images) != len(labels):
            raise Refusal(f'{found["files"][0]}: holds {len(images)} images but its labels file '
                          f'{len(labels)} labels')
    files = [os.path.abspath(f) for f in found['files']]
    return {'images': images, 'labels': labels, 'files': files}


def fingerprint(images, labels):
    """The app's 64-bit fingerprint of a data set's pixels and labels (FNV-1a style, 32-bit
    words)."""
    h1 = 0x811C9DC5
    h2 = 0x01000193 ^ len(labels)
    for data in (images.reshape(-1), labels):
        whole = data.size // 4 * 4
        words = np.frombuffer(data[:whole].tobytes(), dtype='<u4')
        rotated = ((words >> 16) | (words << 16)).astype(np.uint32)
        for word in words.tolist():
            h1 = ((h1 ^ word) * 0x01000193) & MASK32
        for word in rotated.tolist():
            h2 = ((h2 ^ word) * 0x5BD1E995) & MASK32
        for byte in data[whole:].tolist():
            h1 = ((h1 ^ byte) * 0x01000193) & MASK32
            h2 = ((h2 ^ byte) * 0x5BD1E995) & MASK32
    return f'{h1:08x}{h2:08x}'


def describe_data(fingerprint_text, sources):
    files = (sources or {}).get('train') or []
    if files and fingerprint_text:
        return f'{files[0]} (fingerprint {fingerprint_text})'
    return files[0] if files else f'data with fingerprint {fingerprint_text}'


# --------------------------------------------------------------------------------------------------
# Checkpoints in the app's format (src/core/checkpoint): safetensors, tensors under PyTorch's
# nn.Sequential names, Adam's moments under "optimizer.exp_avg." and "optimizer.exp_avg_sq.", the
# best epoch's state under "best.", and the run's description as JSON in __metadata__["fmnist"].


def read_safetensors(path):
    raw = read_bytes(path)
    if len(raw) < 8:
        raise Refusal(f'{path}: is too short to be a safetensors file')
    length = int.from_bytes(raw[:8], 'little')
    if length > len(raw) - 8:
        raise Refusal(f'{path}: is not a safetensors file (its header runs past its end)')
    try:
        header = json.loads(raw[8:8 + length].decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(f'{path}: is not a safetensors file (its header is not valid JSON)') from None
    data = memoryview(raw)[8 + length:]
    metadata = header.pop('__metadata__', None) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry['data_offsets']
        if entry['dtype'] not in ('F32', 'F64') or end > len(data):
            raise Refusal(f'{path}: tensor "{name}" is not a float tensor inside the file')
        dtype = '<f4' if entry['dtype'] == 'F32' else '<f8'
        values = np.frombuffer(data[begin:end], dtype=dtype).astype(np.float32)
        tensors[name] = {'offset': begin, 'bytes': bytes(data[begin:end]),
                         'values': values.reshape(entry['shape'])}
    return tensors, metadata


def layer_names(hidden_sizes):
    """The state-dict names of the model: linear layer l is module 2·l (the ReLUs sit between)."""
    return [f'{2 * layer}.{kind}'
            for layer in range(len(hidden_sizes) + 1) for kind in ('weight', 'bias')]


def load_checkpoint(path):
    """A resumable checkpoint's description and tensors; refuses in one line anything else."""
    tensors, metadata = read_safetensors(path)
    if 'fmnist' not in metadata:
        if '0.weight' in tensors:
            raise Refusal(f'{path}: {WEIGHTS_ONLY}')
        raise Refusal(f'{path}: is not a Fashion-MNIST Studio checkpoint')
    try:
        description = json.loads(metadata['fmnist'])
    except ValueError:
        raise Refusal(f'{path}: has a corrupt description (its metadata is not JSON)') from None
    if description.get('format') != CHECKPOINT_FORMAT:
        raise Refusal(f'{path}: is not a Fashion-MNIST Studio checkpoint')
    if description.get('formatVersion') != CHECKPOINT_VERSION:
        raise Refusal(f'{path}: uses checkpoint format version {description.get("formatVersion")}; '
                      f'{PROGRAM} reads version {CHECKPOINT_VERSION}')
    if 'dataCrc32' in description:
        crc = 0
        for tensor in sorted(tensors.values(), key=lambda t: t['offset']):
            crc = zlib.crc32(tensor['bytes'], crc)
        if f'{crc:08x}' != description['dataCrc32']:
            raise Refusal(f'{path}: is corrupt: its tensor data fails the checksum')
    config = description.get('config')
    optimizer = description.get('optimizer')
    if not config or not optimizer:
        raise Refusal(f'{path}: {WEIGHTS_ONLY}')
    if description.get('finishedEarly'):
        why = 'its best epoch was kept' if config.get('restoreBest') else 'early stopping ended it'
        raise Refusal(f'{path}: the run finished after epoch {description["epochsDone"]} ({why}), '
                      'so it has nothing left to train: start a new run')
    names = layer_names(config['hiddenSizes'])

    def model(prefix):
        missing = [prefix + name for name in names if prefix + name not in tensors]
        if missing:
            raise Refusal(f'{path}: has no tensor "{missing[0]}"')
        return {name: tensors[prefix + name]['values'] for name in names}

    def state(saved, prefix):
        return {'step': saved['step'], 'shuffle': saved['shuffleState'],
                'parameters': model(prefix), 'm': model(prefix + 'optimizer.exp_avg.'),
                'v': model(prefix + 'optimizer.exp_avg_sq.')}

    saved_best = optimizer.get('best')
    best = None
    if saved_best:
        best = {'epoch': saved_best['epoch'], 'validationCost': saved_best['validationCost'],
                'state': state(saved_best['state'], 'best.') if saved_best.get('state') else None}
    return {'description': description, 'config': config, 'current': state(optimizer, ''),
            'best': best}


def now_iso():
    """The time now as JavaScript's toISOString() writes it: 2026-12-07T00:15:22.133Z."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def to_base36(number):
    digits = '0123456789abcdefghijklmnopqrstuvwxyz'
    text = ''
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def write_atomically(path, parts):
    """Writes a temporary file beside `path`, flushes it to disk and renames it over `path`: a kill
    or a full disk at any moment leaves the previous file whole."""
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f'.{os.path.basename(path)}.{os.getpid()}.'
                                     f'{to_base36(int(time.time() * 1000))}.tmp')
    try:
        with open(temporary, 'xb') as file:
            for part in parts:
                file.write(part)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise Refusal(f'{path}: cannot be written ({error.strerror or error})') from None
        raise
    try:
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        pass  # Not every system can sync a folder; the rename is atomic anyway.


def thin(curve, limit):
    """Every other point until at most `limit` remain (the last one kept), as the app saves it."""
    if len(curve) <= limit:
        return curve
    step = math.ceil(len(curve) / limit)
    kept = [point for i, point in enumerate(curve) if i % step == 0]
    if kept[-1] is not curve[-1]:
        kept.append(curve[-1])
    return [[float(f'{x:.5f}'), float(f'{y:.6g}')] for x, y in kept]


def encode_checkpoint(description, tensors):
    """The file's parts: length, header (padded with spaces to a multiple of 8), tensor bytes."""
    header = {}
    offset = 0
    crc = 0
    blobs = []
    for name, values in tensors:
        blob = np.ascontiguousarray(values, dtype='<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(values.shape),
                        'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        crc = zlib.crc32(blob, crc)
        blobs.append(blob)
    description = dict(description, dataCrc32=f'{crc:08x}')
    text = json.dumps(description, separators=(',', ':'), allow_nan=False)
    metadata = {'format': 'pt', 'fmnist': text}
    text = json.dumps({'__metadata__': metadata, **header}, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return [len(text).to_bytes(8, 'little'), text, *blobs]


# --------------------------------------------------------------------------------------------------
# The learning rate and Adam (src/core/optimizer).


def learning_rate_at(config, epoch, batch, batches):
    """The rate of batch `batch` of `batches` in epoch `epoch` (both 1-based): a function of the
    position in the run only, so a continued run takes the rates of one that never stopped."""
    warmup = config['warmupEpochs']
    position = epoch - 1 + batch / batches
    factor = position / warmup if position <= warmup else 1
    if config['schedule'] == 'step':
        factor *= config['stepFactor'] ** math.floor((epoch - 1) / config['stepEpochs'])
    elif config['schedule'] == 'cosine' and position > warmup:
        progress = (epoch - 1 + (batch - 1) / batches - warmup) / (config['epochs'] - warmup)
        factor *= 0.5 * (1 + math.cos(math.pi * progress))
    return config['learningRate'] * factor


def f32(value):
    """A number rounded to float32, as the app's kernels hold it."""
    return float(np.float32(value))


class Adam:
    """Adam with bias correction in the app's form, with AdamW's decoupled decay of the weights
    only (never the biases):
        m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
        θ ← θ·(1 − lr·λ) − αₜ·m / (√v + ε̂),  αₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ),  ε̂ = ε·√(1−β2ᵗ),
    in float32 in that order, as the app's fused kernels compute it."""

    def __init__(self, config, parameters, m, v):
        self.beta1 = config['beta1']
        self.beta2 = config['beta2']
        self.epsilon = config['epsilon']
        self.weight_decay = config['weightDecay']
        self.parameters = parameters
        self.m = m
        self.v = v

    @torch.no_grad()
    def step(self, step, learning_rate):
        root = math.sqrt(1 - self.beta2 ** step)
        step_size = f32(learning_rate * root / (1 - self.beta1 ** step))
        epsilon_hat = f32(self.epsilon * root)
        decay = f32(1 - learning_rate * self.weight_decay)
        b1, b2 = f32(self.beta1), f32(self.beta2)
        one_minus_b1, one_minus_b2 = f32(1 - self.beta1), f32(1 - self.beta2)
        for name, parameter in self.parameters.items():
            g = parameter.grad
            m, v = self.m[name], self.v[name]
            m.mul_(b1).add_(g * one_minus_b1)
            v.mul_(b2).add_((g * one_minus_b2) * g)
            if name.endswith('.weight') and decay != 1:
                parameter.mul_(decay)
            parameter.sub_((m * step_size).div_(v.sqrt().add_(epsilon_hat)))


# --------------------------------------------------------------------------------------------------
# The network and the recipes' random choices.


class Network(torch.nn.Sequential):
    """784 inputs → ReLU hidden layers → 10 logits, as nn.Sequential(Linear, ReLU, …, Linear), so
    its state dict is the checkpoint's. `keep` holds each hidden layer's dropout multipliers (0, or
    1/(1 − p))."""

    def __init__(self, hidden_sizes):
        sizes = [IMAGE_SIZE, *hidden_sizes, CLASSES]
        layers = []
        for layer in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[layer], sizes[layer + 1]))
            if layer < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        super().__init__(*layers)

    def forward(self, x, keep=None):
        hidden = 0
        for module in self:
            x = module(x)
            if keep is not None and isinstance(module, torch.nn.ReLU):
                x = x * keep[hidden]
                hidden += 1
        return x


class Recipes:
    """The step's dropout masks and image shifts and flips, drawn from (seed, step, batch row,
    unit) as the app draws them."""

    def __init__(self, config, device):
        self.config = config
        self.device = device
        hidden = config['hiddenSizes']
        self.hidden = hidden
        # Dropout numbers the hidden units of all layers of a row one after the other.
        units = torch.arange(sum(hidden), dtype=torch.int64, device=device)
        self.unit_spread = mul32(units, UNIT_SPREAD)
        self.threshold = dropout_threshold(config['dropout'])
        self.scale = f32(1 / (1 - config['dropout']))
        self.augments = config['shiftPixels'] > 0 or config['flip']
        grid = torch.arange(IMAGE_WIDTH, dtype=torch.int64, device=device)
        self.y = grid.view(1, IMAGE_WIDTH, 1)
        self.x = grid.view(1, 1, IMAGE_WIDTH)

    def dropout(self, step, rows):
        """Each hidden layer's multipliers for the batch rows `rows`: 1/(1 − p) where kept."""
        if self.config['dropout'] <= 0:
            return None
        key = step_key(self.config['seed'], 'dropout', step)
        hashes = mix32_tensor((row_keys(key, rows)[:, None] + self.unit_spread[None, :]) & MASK32)
        keep = (hashes >= self.threshold).to(torch.float32) * self.scale
        return list(torch.split(keep, self.hidden, dim=1))

    def augment(self, step, rows, pixels):
        """The rows' images mirrored left to right (half of them, with flips), then shifted by
        −N…N pixels across and down; the pixels moved in are 0."""
        if not self.augments:
            return pixels
        shift = self.config['shiftPixels']
        span = 2 * shift + 1
        h = row_keys(step_key(self.config['seed'], 'augment', step), rows)
        dx = (h % span - shift).view(-1, 1, 1)
        dy = (mix32_tensor(h) % span - shift).view(-1, 1, 1)
        flipped = ((mix32_tensor(h ^ 0x5BD1E995) & 1) == 1) & bool(self.config['flip'])
        sy = self.y - dy
        sx = self.x - dx
        inside = (sy >= 0) & (sy < IMAGE_WIDTH) & (sx >= 0) & (sx < IMAGE_WIDTH)
        sx = torch.where(flipped.view(-1, 1, 1), IMAGE_WIDTH - 1 - sx, sx)
        source = (sy.clamp(0, IMAGE_WIDTH - 1) * IMAGE_WIDTH + sx.clamp(0, IMAGE_WIDTH - 1))
        moved = pixels.gather(1, source.view(len(rows), IMAGE_SIZE))
        return torch.where(inside.view(len(rows), IMAGE_SIZE), moved, torch.zeros_like(moved))


def sample_costs(logits, labels, smoothing, dtype):
    """Each row's cross-entropy against its (smoothed) target: logsumexp(z) − Σ q·z."""
    z = logits.to(dtype)
    if smoothing == 0:
        return torch.logsumexp(z, 1) - z.gather(1, labels.view(-1, 1)).squeeze(1)
    other = smoothing / CLASSES
    targets = torch.full_like(z, other)
    targets.scatter_(1, labels.view(-1, 1), 1 - smoothing + other)
    return torch.logsumexp(z, 1) - (targets * z).sum(1)


# --------------------------------------------------------------------------------------------------
# The run.


class Run:
    """The app's trainer (src/core/training/trainer.ts), continued: every epoch is saved."""

    def __init__(self, args, checkpoint, data, test, place):
        self.args = args
        self.place = place
        self.device = place['device']
        description = checkpoint['description']
        self.description = description
        config = dict(checkpoint['config'])
        config['epochs'] = args.epochs
        self.config = config
        self.history = list(description['history'])
        self.epochs_done = description['epochsDone']
        self.curve = [list(point) for point in description.get('costCurve') or []]
        self.data_record = data['record']
        # Costs in float64 where the device has it, as the app sums them.
        self.cost_dtype = torch.float32 if self.device.type == 'mps' else torch.float64

        current = checkpoint['current']
        self.step = current['step']
        self.shuffle = Random(current['shuffle'])
        self.network = Network(config['hiddenSizes']).to(self.device)
        self.load(current)
        self.best = None
        if checkpoint['best']:
            saved = checkpoint['best']
            self.best = {'epoch': saved['epoch'], 'validationCost': saved['validationCost'],
                         'snapshot': None, 'step': self.step, 'shuffle': self.shuffle.state()}
            if saved['state']:
                kept = saved['state']
                self.best.update(step=kept['step'], shuffle=list(kept['shuffle']),
                                 snapshot=self.device_copy(kept))
            elif config['restoreBest'] and saved['epoch'] == self.epochs_done:
                # The best epoch is the current one: restoreBest keeps it from here.
                self.best['snapshot'] = self.snapshot()

        images, labels = data['images'], data['labels']
        limit = config['limit']
        if 0 < limit < len(labels):
            images, labels = images[:limit], labels[:limit]
        self.train_indices, self.validation_indices = split_validation(
            len(labels), config['validationFraction'], config['seed'])
        if not self.train_indices:
            raise Refusal('no training samples are left after the validation split')
        self.images = torch.from_numpy(np.array(images)).to(self.device)
        self.labels = torch.from_numpy(labels.astype(np.int64)).to(self.device)
        self.validation = torch.tensor(self.validation_indices, dtype=torch.int64,
                                       device=self.device)
        self.test = None
        if test is not None:
            self.test = (torch.from_numpy(np.array(test['images'])).to(self.device),
                         torch.from_numpy(test['labels'].astype(np.int64)).to(self.device))
        # Pixels are scaled through a table of b/255 in float32, as the app's gather does.
        self.scale = torch.from_numpy(
            (np.arange(256, dtype=np.float64) / 255).astype(np.float32)).to(self.device)
        self.recipes = Recipes(config, place['hash_device'])
        self.model = self.network
        if place['world'] > 1:
            devices = [self.device.index] if self.device.type == 'cuda' else None
            self.model = torch.nn.parallel.DistributedDataParallel(self.network, device_ids=devices)
        self.adam = Adam(config, dict(self.network.named_parameters()), self.m, self.v)
        self.trained_by = {'program': PROGRAM, 'torch': torch.__version__,
                           'device': self.device.type, 'worldSize': place['world']}
        self.saved_epoch = None

    # The model's state: parameters and Adam's moments, on the device.

    def load(self, state):
        copy = self.device_copy(state)
        self.network.load_state_dict(copy['parameters'])
        self.m, self.v = copy['m'], copy['v']

    def device_copy(self, state):
        def on_device(values):
            return {name: torch.from_numpy(np.array(array)).to(self.device)
                    for name, array in values.items()}
        return {key: on_device(state[key]) for key in ('parameters', 'm', 'v')}

    def snapshot(self):
        return {'parameters': {n: p.detach().clone() for n, p in self.network.named_parameters()},
                'm': {n: t.clone() for n, t in self.m.items()},
                'v': {n: t.clone() for n, t in self.v.items()}}

    @torch.no_grad()
    def restore(self, snapshot):
        for name, parameter in self.network.named_parameters():
            parameter.copy_(snapshot['parameters'][name])
            self.m[name].copy_(snapshot['m'][name])
            self.v[name].copy_(snapshot['v'][name])

    # Training and evaluation.

    def train_epoch(self, epoch):
        """One epoch: the app's shuffle and batches (the last, partial one too), each batch split
        across the processes so that together they take exactly the app's step."""
        config = self.config
        rank, world = self.place['rank'], self.place['world']
        order = list(self.train_indices)
        self.shuffle.shuffle(order)
        order = torch.tensor(order, dtype=torch.int64, device=self.device)
        n = len(order)
        batch_size = config['batchSize']
        batches = math.ceil(n / batch_size)
        smoothing = f32(config['labelSmoothing'])
        batch_costs = torch.zeros(batches, dtype=self.cost_dtype, device=self.device)
        correct = torch.zeros(1, dtype=self.cost_dtype, device=self.device)
        hash_device = self.place['hash_device']
        self.model.train()
        started = time.perf_counter()
        learning_rate = config['learningRate']
        for b in range(batches):
            start = b * batch_size
            rows = min(n, start + batch_size) - start
            # This process's rows of the batch, numbered within the whole batch (for the hashes).
            mine = torch.arange(rank, rows, world, dtype=torch.int64, device=hash_device)
            indices = order[start:start + rows][rank::world]
            self.step += 1
            learning_rate = learning_rate_at(config, epoch, b + 1, batches)
            pixels = self.recipes.augment(self.step, mine, self.images[indices].to(hash_device))
            x = self.scale[pixels.to(self.device).long()]
            keep = self.recipes.dropout(self.step, mine)
            if keep is not None:
                keep = [mask.to(self.device) for mask in keep]
            labels = self.labels[indices]
            logits = self.model(x, keep)
            costs = sample_costs(logits, labels, smoothing, self.cost_dtype)
            # The mean over the whole batch: DDP averages the processes' gradients, so each process
            # scales its share by their number.
            loss = costs.sum() * (world / rows)
            for parameter in self.network.parameters():
                parameter.grad = None
            loss.backward()
            self.adam.step(self.step, learning_rate)
            with torch.no_grad():
                batch_costs[b] = costs.sum()
                correct += (logits.argmax(1) == labels).sum()
        if world > 1:
            dist.all_reduce(batch_costs)
            dist.all_reduce(correct)
            SENT[:] = [batch_costs, correct]
        # Waits for the device, so the epoch's time is measured after its last step.
        batch_costs = batch_costs.tolist()
        seconds = time.perf_counter() - started
        sizes = [min(batch_size, n - b * batch_size) for b in range(batches)]
        self.add_to_curve(epoch, [cost / size for cost, size in zip(batch_costs, sizes)])
        return {'cost': sum(batch_costs) / n, 'trainAccuracy': correct.item() / n,
                'seconds': seconds, 'samplesPerSecond': n / seconds if seconds > 0 else 0,
                'learningRate': learning_rate}

    def add_to_curve(self, epoch, costs):
        """The per-batch costs averaged into at most 100 points per epoch, as the app keeps them."""
        per_point = max(1, math.ceil(len(costs) / COST_POINTS_PER_EPOCH))
        for first in range(0, len(costs), per_point):
            chunk = costs[first:first + per_point]
            position = epoch - 1 + (first + len(chunk)) / len(costs)
            self.curve.append([position, sum(chunk) / len(chunk)])
            if len(self.curve) > MAX_STORED_COST_POINTS:
                merged = [[(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]
                          for a, b in zip(self.curve[0::2], self.curve[1::2])]
                if len(self.curve) % 2:
                    merged.append(self.curve[-1])
                self.curve = merged

    @torch.no_grad()
    def evaluate(self, images, labels, indices=None):
        """Cost and accuracy of the whole network (no dropout, images as they are) on a data set."""
        self.network.eval()
        count = len(indices) if indices is not None else len(labels)
        cost = 0.0
        correct = 0
        for start in range(0, count, EVALUATION_ROWS):
            chosen = (indices[start:start + EVALUATION_ROWS] if indices is not None
                      else slice(start, start + EVALUATION_ROWS))
            logits = self.network(self.scale[images[chosen].long()])
            cost += sample_costs(logits, labels[chosen], 0, self.cost_dtype).sum().item()
            correct += (logits.argmax(1) == labels[chosen]).sum().item()
        return cost / count, correct / count

    def run(self):
        """Trains to the epochs asked for, or until early stopping ends the run."""
        config = self.config
        rank, world = self.place['rank'], self.place['world']
        stopped_early = False
        while self.epochs_done < config['epochs']:
            epoch = self.epochs_done + 1
            summary = self.train_epoch(epoch)
            if not math.isfinite(summary['cost']):
                what = 'NaN' if math.isnan(summary['cost']) else 'infinite'
                kept = (f'{self.args.out} keeps epoch {self.saved_epoch}' if self.saved_epoch
                        else f'{self.args.resume} is as it was')
                raise Refusal(f'training diverged in epoch {epoch} (the cost became {what}); '
                              f'{kept}. Try a lower learning rate than {config["learningRate"]}')
            self.epochs_done = epoch
            stop = torch.zeros(1, dtype=torch.int64, device=self.place['comm_device'])
            if rank == 0:
                stopped_early = self.finish_epoch(epoch, summary)
                stop[0] = int(stopped_early)
            if world > 1:
                dist.broadcast(stop, 0)
                SENT.append(stop)
            if stop.item():
                break
        if rank == 0:
            self.finish(stopped_early)

    def finish_epoch(self, epoch, summary):
        """Evaluates, reports and saves an epoch (the writing process only); returns whether early
        stopping ends the run now."""
        config = self.config
        started = time.perf_counter()
        validation = test = (None, None)
        if self.validation_indices:
            validation = self.evaluate(self.images, self.labels, self.validation)
        if self.test is not None:
            test = self.evaluate(*self.test)
        entry = {
            'epoch': epoch, 'epochs': config['epochs'], 'cost': summary['cost'],
            'trainAccuracy': summary['trainAccuracy'],
            'validationCost': validation[0], 'validationAccuracy': validation[1],
            'testCost': test[0], 'testAccuracy': test[1], 'seconds': summary['seconds'],
            'evaluationSeconds': time.perf_counter() - started,
            'samplesPerSecond': summary['samplesPerSecond'],
            'learningRate': summary['learningRate'], 'trainedBy': self.trained_by,
        }
        self.history.append(entry)
        if entry['validationCost'] is not None and entry['validationCost'] < (
                self.best['validationCost'] if self.best else math.inf):
            self.best = {'epoch': epoch, 'validationCost': entry['validationCost'],
                         'snapshot': self.snapshot() if config['restoreBest'] else None,
                         'step': self.step, 'shuffle': self.shuffle.state()}
        report_epoch(entry, self.args.json)
        self.save(finished_early=False)
        return (config['patience'] > 0 and self.best is not None
                and epoch - self.best['epoch'] >= config['patience'] and epoch < config['epochs'])

    def finish(self, stopped_early):
        """A run with restoreBest ends with its best epoch; one that ends early is finished."""
        config = self.config
        last = self.history[-1] if self.history else None
        restored = False
        best = self.best
        if (config['restoreBest'] and best and best['snapshot']
                and best['epoch'] != self.epochs_done):
            self.restore(best['snapshot'])
            self.step = best['step']
            self.shuffle = Random(best['shuffle'])
            self.epochs_done = best['epoch']
            self.history = self.history[:best['epoch']]
            restored = True
        finished_early = self.epochs_done < config['epochs']
        if stopped_early or restored:
            self.save(finished_early=finished_early)
        kept = self.history[self.epochs_done - 1] if self.history else None
        if stopped_early:
            say(f'Stopped early after epoch {last["epoch"]}: the validation cost had not improved '
                f'for {config["patience"]} epochs since epoch {best["epoch"]}.')
        if restored:
            say(f'Kept the model of epoch {best["epoch"]}, the one with the lowest validation '
                'cost.')
        if self.args.json:
            print(json.dumps({
                'type': 'summary', 'status': 'finished', 'epochs': self.epochs_done,
                'cost': kept and kept['cost'], 'trainAccuracy': kept and kept['trainAccuracy'],
                'validationAccuracy': kept and kept['validationAccuracy'],
                'testAccuracy': kept and kept['testAccuracy'],
                'bestEpoch': best['epoch'] if best else None, 'stoppedEarly': stopped_early,
                'restoredBest': restored, 'checkpoint': self.args.out, **self.trained_by},
                separators=(',', ':')), flush=True)
        elif kept:
            test = ('' if kept['testAccuracy'] is None
                    else f', test {percent(kept["testAccuracy"])}')
            say(f'Finished at epoch {self.epochs_done}: train {percent(kept["trainAccuracy"])}'
                f'{test}; saved to {self.args.out}.')

    # Saving.

    def save(self, finished_early):
        """The run as it stands, in the app's checkpoint format, written atomically to --out."""
        names = layer_names(self.config['hiddenSizes'])
        parameters = dict(self.network.named_parameters())

        def arrays(values):
            return [(name, values[name].detach().cpu().numpy()) for name in names]

        tensors = [*arrays(parameters), *[('optimizer.exp_avg.' + n, a) for n, a in arrays(self.m)],
                   *[('optimizer.exp_avg_sq.' + n, a) for n, a in arrays(self.v)]]
        best = self.best
        best_state = None
        if best and best['snapshot'] and best['epoch'] != self.epochs_done:
            snapshot = best['snapshot']
            tensors += [('best.' + n, a) for n, a in arrays(snapshot['parameters'])]
            tensors += [('best.optimizer.exp_avg.' + n, a) for n, a in arrays(snapshot['m'])]
            tensors += [('best.optimizer.exp_avg_sq.' + n, a) for n, a in arrays(snapshot['v'])]
            best_state = {'step': best['step'], 'shuffleState': best['shuffle']}
        saved = self.description
        record = self.data_record
        description = {
            'format': CHECKPOINT_FORMAT,
            'formatVersion': CHECKPOINT_VERSION,
            'architecture': {'inputSize': IMAGE_SIZE, 'hiddenSizes': self.config['hiddenSizes'],
                             'outputSize': CLASSES, 'activation': 'relu', 'output': 'softmax'},
            'config': self.config,
            'epochsDone': self.epochs_done,
            'history': self.history,
            'datasetFingerprint': record['fingerprint'],
            'appVersion': saved.get('appVersion'),
            'createdAt': now_iso(),
            'optimizer': {
                'step': self.step, 'shuffleState': self.shuffle.state(),
                'best': {'epoch': best['epoch'], 'validationCost': best['validationCost'],
                         'state': best_state} if best else None,
            },
            'costCurve': thin(self.curve, MAX_COST_CURVE),
            'dataSources': record['sources'],
            'dataHistory': record['history'],
        }
        if finished_early:
            description['finishedEarly'] = True
        write_atomically(self.args.out, encode_checkpoint(description, tensors))
        self.saved_epoch = self.epochs_done


def split_validation(count, fraction, seed):
    """The app's training/validation split of the first `count` samples: sorted index lists."""
    indices = list(range(count))
    held = min(count - 1, max(1, math.floor(count * fraction + 0.5))) if fraction > 0 else 0
    if held == 0:
        return indices, []
    Random.from_seed(seed, 'split').shuffle(indices)
    return sorted(indices[held:]), sorted(indices[:held])


def continued_on(saved, fingerprint_text, sources, from_epoch):
    """The data a continued model was trained on, as the app records it: every data set in turn when
    training went on with other data."""
    known = saved.get('datasetFingerprint')
    if known is None or known == fingerprint_text:
        return {'fingerprint': fingerprint_text, 'sources': sources or saved.get('dataSources'),
                'history': saved.get('dataHistory')}
    earlier = saved.get('dataHistory') or [
        {'fromEpoch': 1, 'fingerprint': known, 'sources': saved.get('dataSources')}]
    return {'fingerprint': fingerprint_text, 'sources': sources,
            'history': [*earlier, {'fromEpoch': from_epoch, 'fingerprint': fingerprint_text,
                                   'sources': sources}]}


# --------------------------------------------------------------------------------------------------
# Output, options, devices and processes.

WRITER = True
# The tensors of the last collectives, kept until the process exits. A gloo worker thread can still hold the last
# work that used one when the process group is torn down (at the end, from the thread that holds Python's lock, and
# waiting for the workers); freeing a tensor Python has seen needs that lock, so if the worker's reference were the
# last one, both threads would wait for each other for ever.
SENT = []


def say(text):
    """A message for people, on stderr, from the writing process only."""
    if WRITER:
        print(text, file=sys.stderr, flush=True)


def percent(fraction):
    return '—' if fraction is None else f'{fraction * 100:.2f}%'


def report_epoch(entry, as_json):
    """One line per epoch on stdout, as `fmnist train` prints it (with --json, its JSON object)."""
    if as_json:
        def rounded(x, digits=6):
            return None if x is None else round(x, digits)

        print(json.dumps({
            'type': 'epoch', 'epoch': entry['epoch'], 'cost': rounded(entry['cost']),
            'trainAccuracy': rounded(entry['trainAccuracy']),
            'validationCost': rounded(entry['validationCost']),
            'validationAccuracy': rounded(entry['validationAccuracy']),
            'testCost': rounded(entry['testCost']), 'testAccuracy': rounded(entry['testAccuracy']),
            'seconds': rounded(entry['seconds'], 3),
            'samplesPerSecond': round(entry['samplesPerSecond']),
        }, separators=(',', ':')), flush=True)
        return
    width = len(str(entry['epochs']))
    parts = [f'epoch {entry["epoch"]:>{width}}/{entry["epochs"]}', f'cost {entry["cost"]:.4f}',
             f'train {percent(entry["trainAccuracy"])}']
    if entry['validationAccuracy'] is not None:
        parts.append(f'validation {percent(entry["validationAccuracy"])}')
    if entry['testAccuracy'] is not None:
        parts.append(f'test {percent(entry["testAccuracy"])}')
    parts.append(f'{entry["seconds"]:.2f} s')
    print('  '.join(parts), flush=True)


class Options(argparse.ArgumentParser):
    def error(self, message):
        raise Refusal(f'{message} (see python3 {PROGRAM} --help)')


def parse_options(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    options = Options(
        prog=PROGRAM,
        description='Continue a Fashion-MNIST Studio run in PyTorch, on the CPU, a GPU, or several '
                    'GPUs or machines under torchrun. Writes a checkpoint in the app\'s format '
                    'after every epoch.',
        epilog='Examples:\n'
               '  python3 train.py --train ~/data/fashion-mnist --epochs 30 --out run.safetensors\n'
               '  python3 train.py --train ~/data/fashion-mnist --epochs 30 --out run.safetensors '
               '--device cuda\n'
               '  torchrun --nproc_per_node 4 train.py --train ~/data/fashion-mnist --epochs 30 '
               '--out run.safetensors\n'
               'Then: fmnist info run.safetensors, fmnist evaluate --model run.safetensors, '
               'fmnist train --resume run.safetensors.',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument('--train', metavar='PATH',
                         help='training data: a CSV, an IDX images file or a folder (default: '
                              'search $FMNIST_DATA, /usr/share/datasets/fashion-mnist, '
                              '~/.keras/datasets/fashion-mnist)')
    options.add_argument('--test', metavar='PATH',
                         help='test data (default: the test set beside the training data)')
    options.add_argument('--epochs', metavar='N', type=int,
                         help='the total epochs to reach (default: the run\'s own)')
    options.add_argument('--out', metavar='FILE', required=True,
                         help='the checkpoint to write after every epoch (.safetensors)')
    options.add_argument('--device', choices=['auto', 'cpu', 'cuda', 'mps'], default='auto',
                         help='where to train (default auto: cuda when there is one, else cpu)')
    options.add_argument('--resume', metavar='FILE',
                         default=os.path.join(here, 'checkpoint.safetensors'),
                         help='the checkpoint to continue (default: checkpoint.safetensors '
                              'beside this file)')
    options.add_argument('--allow-other-data', action='store_true',
                         help='train on data other than the checkpoint was trained on')
    options.add_argument('--json', action='store_true',
                         help='print one JSON object per epoch and a final summary object')
    return options.parse_args(argv)


def check_output(path):
    """--out is checked before any work, so a long run never fails at its first save."""
    if os.path.isdir(path):
        raise Refusal(f'{path}: is a directory, expected a file name')
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise Refusal(f'{path}: the folder {folder} does not exist')
    probe = os.path.join(folder, f'.{os.path.basename(path)}.{os.getpid()}.probe')
    try:
        with open(probe, 'xb'):
            pass
        os.unlink(probe)
    except OSError as error:
        raise Refusal(f'{path}: cannot be written ({error.strerror or error})') from None


def choose_place(wanted):
    """The device and the processes: one, or torchrun's (RANK, WORLD_SIZE and LOCAL_RANK set)."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    mps = getattr(torch.backends, 'mps', None)
    if wanted == 'auto':
        wanted = 'cuda' if torch.cuda.is_available() else 'cpu'
    if wanted == 'cuda' and not torch.cuda.is_available():
        raise Refusal('--device cuda: PyTorch sees no CUDA device here (try --device cpu)')
    if wanted == 'mps' and not (mps and mps.is_available()):
        raise Refusal('--device mps: PyTorch sees no Apple GPU here (try --device cpu)')
    if wanted == 'mps' and world > 1:
        raise Refusal('--device mps runs in one process only (torchrun needs cpu or cuda)')
    device = torch.device('cuda', local_rank % torch.cuda.device_count()) if wanted == 'cuda' \
        else torch.device(wanted)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
        # Plain float32 products, as the app computes them (TF32 would round the inputs to 10 bits).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    return {'device': device, 'rank': rank, 'world': world,
            # MPS lacks some 64-bit integer operations: its random choices are drawn on the CPU.
            'hash_device': torch.device('cpu') if device.type == 'mps' else device,
            'comm_device': device if device.type == 'cuda' else torch.device('cpu')}


def main(argv):
    global WRITER
    args = parse_options(argv)
    version = tuple(int(part) for part in torch.__version__.split('.')[:2] if part.isdigit())
    if version < (1, 13):
        raise Refusal(f'needs PyTorch 1.13 or later, found {torch.__version__}')
    check_output(args.out)
    checkpoint = load_checkpoint(args.resume)
    config = checkpoint['config']
    done = checkpoint['description']['epochsDone']
    args.epochs = config['epochs'] if args.epochs is None else args.epochs
    if args.epochs <= done:
        raise Refusal(f'the model already has {done} epochs: ask for more (--epochs is the total, '
                      f'e.g. {done + 10})')
    if config['schedule'] == 'cosine' and args.epochs != config['epochs']:
        raise Refusal(f'the cosine schedule decays the learning rate to 0 at epoch '
                      f'{config["epochs"]}, so a run with it keeps its {config["epochs"]} epochs; '
                      f'got {args.epochs}')
    place = choose_place(args.device)
    WRITER = place['rank'] == 0

    train_files, test_files = locate_data(args.train, args.test)
    data = load_data(train_files)
    test = load_data(test_files) if test_files else None
    sources = {'train': data['files'], 'test': test['files'] if test else None}
    now = fingerprint(data['images'], data['labels'])
    saved = checkpoint['description']
    known = saved.get('datasetFingerprint')
    if known and known != now and not args.allow_other_data:
        before = describe_data(known, saved.get('dataSources'))
        raise Refusal(f'{args.resume} was trained on {before}, but the training data given now is '
                      f'{describe_data(now, sources)}: add --allow-other-data to train it on '
                      'different data')
    data['record'] = continued_on(saved, now, sources, done + 1)

    run = Run(args, checkpoint, data, test, place)
    processes = f'{place["world"]} processes' if place['world'] > 1 else '1 process'
    say(f'Resuming {args.resume} after epoch {done}, training to epoch {args.epochs} with PyTorch '
        f'{torch.__version__} on {place["device"].type} ({processes}).')
    if known and known != now:
        say('Training goes on with other data than before, as --allow-other-data allows.')
    say(f'Loaded {len(data["labels"])} training images from {data["files"][0]}'
        + (f' and {len(test["labels"])} test images from {test["files"][0]}.' if test else '.'))
    if not test:
        say('No test set found beside the training data: pass --test PATH to report test accuracy.')
    held = (f' ({len(run.validation_indices)} held out for validation)'
            if run.validation_indices else '')
    say(f'Training {"-".join(str(s) for s in [IMAGE_SIZE, *config["hiddenSizes"], CLASSES])} on '
        f'{len(run.train_indices)} samples{held}: batch {config["batchSize"]}, Adam lr '
        f'{config["learningRate"]}, seed {config["seed"]}; each epoch is saved to {args.out}.')
    try:
        run.run()
    except Stopped as stop:
        stop.saved = (args.out, run.saved_epoch)
        raise
    if place['world'] > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except Refusal as refusal:
        if WRITER:
            print(f'{PROGRAM}: {refusal}', file=sys.stderr, flush=True)
        sys.exit(2)
    except Stopped as stop:
        if stop.saved is None:
            say(f'{stop.name}: stopped before training began; nothing was trained.')
        elif stop.saved[1] is None:
            say(f'{stop.name}: stopped before its first epoch ended; {stop.saved[0]} was not '
                'written.')
        else:
            say(f'{stop.name}: stopped; the epoch in progress is dropped, {stop.saved[0]} holds '
                f'epoch {stop.saved[1]}.')
        sys.exit(stop.code)
    except Exception as error:  # Anything else is a bug or a failed peer: one line, no stack trace.
        text = ' '.join(str(error).split()) or type(error).__name__
        print(f'{PROGRAM}: {type(error).__name__}: {text[:500]}', file=sys.stderr, flush=True)
        sys.exit(1)
