"""jax.numpy in the stand-in: NumPy's functions; the arrays made from scratch or from other values (asarray,
zeros, zeros_like, eye) are held as JAX holds them."""
import numpy as _np
from . import _canonical

int32 = _np.int32
maximum = _np.maximum
exp = _np.exp
log = _np.log
sqrt = _np.sqrt
sum = _np.sum


def asarray(value):
    return _canonical(value)


def zeros(shape, dtype=None):
    return _canonical(_np.zeros(shape, dtype if dtype is not None else _np.float64))


def zeros_like(array):
    return _np.zeros_like(_canonical(array))


def eye(n, dtype=None):
    return _canonical(_np.eye(n, dtype=dtype if dtype is not None else _np.float64))
