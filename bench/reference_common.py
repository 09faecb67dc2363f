"""What the Python references (numpy_reference.py, jax_reference.py) share: reading the IDX files, scaling the
pixels, the peak memory line, NumPy's BLAS, and one command line, so that `fmnist bench` and `npm run bench:scale`
run either the same way."""
import argparse, gzip, os, resource, sys, time
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

def blas_line():
    """`blas GFLOPS LIBRARY`: the library behind NumPy's matrix products and how fast it multiplies two 512x512
    float32 matrices (the best of 5). A NumPy on the reference BLAS (Debian's python3-numpy without libopenblas0)
    multiplies many times slower than one on OpenBLAS (about 30 times on a 2-core Zen 5), which would make a poor
    peer."""
    a = np.ones((512, 512), np.float32)
    a @ a
    best = float('inf')
    for _ in range(5):
        t0 = time.perf_counter(); a @ a; best = min(best, time.perf_counter() - t0)
    return f"blas {2 * 512**3 / best / 1e9:.1f} {blas_library()}"

def blas_library():
    """The file that holds the sgemm NumPy's matrix products call, found with dladdr; else the name NumPy's build
    records (NumPy 1.25 and later); else 'unknown'."""
    import ctypes, importlib
    class DlInfo(ctypes.Structure):
        _fields_ = [('fname', ctypes.c_char_p), ('fbase', ctypes.c_void_p), ('sname', ctypes.c_char_p),
                    ('saddr', ctypes.c_void_p)]
    core = None
    for module in ('numpy._core._multiarray_umath', 'numpy.core._multiarray_umath'):
        try:
            core = ctypes.CDLL(importlib.import_module(module).__file__); break
        except (ImportError, OSError):
            continue
    # Plain CBLAS, OpenBLAS's 64-bit-integer builds (NumPy's wheels; scipy_-prefixed from NumPy 2 on) and MKL's.
    for name in ('cblas_sgemm', 'cblas_sgemm64_', 'scipy_cblas_sgemm64_', 'cblas_sgemm_64') if core else ():
        if not hasattr(core, name): continue
        try:
            dladdr = ctypes.CDLL(None).dladdr
        except Exception:  # no dladdr in this C library
            break
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        info = DlInfo()
        if dladdr(ctypes.cast(getattr(core, name), ctypes.c_void_p), ctypes.byref(info)):
            return os.path.realpath(info.fname.decode())
    try:
        return np.show_config(mode='dicts')['Build Dependencies']['blas']['name']
    except Exception:
        return 'unknown'

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
