"""A stand-in for the `jax` package, built on NumPy, with just what bench/jax_reference.py uses. The tests put
this folder first on PYTHONPATH to run that script's own code (its arithmetic, its --paced protocol, its lines)
where JAX cannot be installed. It does not compile anything: jax.jit calls the function as it is. What it keeps
of JAX: without jax_enable_x64, arrays made through it hold 32-bit numbers (float64 becomes float32, int64
int32), and the arrays a jitted function returns cannot be changed in place."""
import atexit as _atexit
import os as _os
import numpy as _np


class _Config:
    def __init__(self):
        self.jax_enable_x64 = False

    def update(self, name, value):
        if name != 'jax_enable_x64':
            raise AttributeError(f'the jax stand-in has no option {name}')
        self.jax_enable_x64 = bool(value)


config = _Config()


def _canonical(value):
    """The array as JAX holds it: 32-bit unless jax_enable_x64 is set."""
    array = _np.asarray(value)
    if not config.jax_enable_x64:
        if array.dtype == _np.float64:
            array = array.astype(_np.float32)
        elif array.dtype == _np.int64:
            array = array.astype(_np.int32)
    return array


def _arrays(value):
    """The arrays in a value, a list or a tuple of them (nested)."""
    if isinstance(value, (list, tuple)):
        for v in value: yield from _arrays(v)
    elif isinstance(value, _np.ndarray):
        yield value


# With JAX_STAND_IN_DTYPES set, the floating-point types of every array a jitted function takes or returns are
# written to that file at exit, one per line, so a test can tell which precision the script really trained in.
_float_types = set()
if _os.environ.get('JAX_STAND_IN_DTYPES'):
    def _write_types(path=_os.environ['JAX_STAND_IN_DTYPES']):
        with open(path, 'w') as f:
            f.write(''.join(f'{name}\n' for name in sorted(_float_types)))
    _atexit.register(_write_types)


def jit(function):
    def jitted(*args):
        result = function(*args)
        _float_types.update(a.dtype.name for a in _arrays(args) if a.dtype.kind == 'f')
        for array in _arrays(result):
            if array.dtype.kind == 'f': _float_types.add(array.dtype.name)
            array.flags.writeable = False  # JAX's arrays cannot be changed in place
        return result
    return jitted


def block_until_ready(value):
    return value


from . import numpy  # noqa: E402  (jax.numpy, as `import jax.numpy as jnp` expects)
