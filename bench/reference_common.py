"""What the Python references (numpy_reference.py, jax_reference.py) share: reading the IDX files, scaling the
pixels, the peak memory line, and one command line, so that `fmnist bench` and `npm run bench:scale` run either
the same way."""
import argparse, gzip, resource, sys
import numpy as np

def load_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    ndim = magic & 0xff
    dims = [int.from_bytes(data[4+4*i:8+4*i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4+4*ndim).reshape(dims)

def scaled(images, dt):
    # Converted in place, so the peak holds one floating-point copy of the images (the values are those of
    # images.astype(dt) / 255.0).
    X = images.reshape(-1, 784).astype(dt); X /= 255.0
    return X

def peak_rss_mb():
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == 'darwin' else 1024)

def parse_arguments(default_dtype, dtypes=None):
    p = argparse.ArgumentParser()
    p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--batch', '--batch-size', dest='batch', type=int, default=128)
    p.add_argument('--hidden', default='512,256', help='hidden layer sizes, e.g. 512,256')
    p.add_argument('--lr', type=float, default=0.001)
    p.add_argument('--dtype', default=default_dtype, choices=dtypes)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--limit', type=int, default=0)
    p.add_argument('--paced', action='store_true')
    p.add_argument('--no-test', dest='test', action='store_false', help='no test evaluation (test_acc prints nan)')
    return p.parse_args()
