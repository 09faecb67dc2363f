#!/usr/bin/env python3
"""The seed notebook's network in JAX, as a second reference beside numpy_reference.py: the same network
(784-512-256-10 by default, ReLU, softmax cross-entropy, He-normal init, zero biases), the same Adam with bias
correction, batches of 128 reshuffled every epoch with the partial last batch trained too, and the same command
line, output lines and --paced protocol, so `fmnist bench` and `npm run bench:scale` run either the same way.
Float32 on the CPU by default (JAX's own default precision).

Each training step (gathering the batch, forward, backward, Adam) is one function compiled by jax.jit. Its
arithmetic is numpy_reference.py's written out operation by operation, backward pass included, and the weights
and every epoch's order come from the same NumPy generator, so the two scripts train the same model and differ
only in how a step is executed. Both batch shapes of an epoch are compiled before "ready": the epoch times
measure training, not XLA's compiler."""
import time, os, sys
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from reference_common import load_idx, parse_arguments, peak_rss_mb, scaled
import jax
import jax.numpy as jnp

a = parse_arguments('float32', ['float32', 'float64'])
if a.dtype == 'float64': jax.config.update('jax_enable_x64', True)
dt = np.dtype(a.dtype)
Xtr = load_idx(os.path.join(a.data, 'train-images-idx3-ubyte.gz'))
Ytr = load_idx(os.path.join(a.data, 'train-labels-idx1-ubyte.gz')).astype(np.int32)
if a.limit: Xtr, Ytr = Xtr[:a.limit], Ytr[:a.limit]
n = len(Xtr)
# The data live on the device (the CPU's memory, for XLA), where each step gathers its batch.
Xtr = jnp.asarray(scaled(Xtr, dt)); Ytr = jnp.asarray(Ytr)
if a.test:
    Xte = jnp.asarray(scaled(load_idx(os.path.join(a.data, 't10k-images-idx3-ubyte.gz')), dt))
    Yte = jnp.asarray(load_idx(os.path.join(a.data, 't10k-labels-idx1-ubyte.gz')).astype(np.int32))
rng = np.random.default_rng(a.seed)
sizes = [784] + [int(s) for s in a.hidden.split(',') if s.strip()] + [10]
L = len(sizes) - 1
W = [(rng.standard_normal((sizes[i], sizes[i+1])) * np.sqrt(2.0/sizes[i])).astype(dt) for i in range(L)]
b = [np.zeros(sizes[i+1], dt) for i in range(L)]
params = [jnp.asarray(q) for q in W + b]
del W, b  # the device holds the weights now: no second copy in the peak memory
m = [jnp.zeros_like(q) for q in params]; v = [jnp.zeros_like(q) for q in params]
b1, b2, eps, lr = 0.9, 0.999, 1e-8, a.lr
onehot = jnp.eye(10, dtype=dt)

def forward(params, X):
    """The activations of every layer, the input first and the softmax output last."""
    W, b = params[:L], params[L:]
    A = [X]
    for l in range(L - 1):
        A.append(jnp.maximum(A[-1] @ W[l] + b[l], 0))
    Z = A[-1] @ W[L-1] + b[L-1]; Z = Z - Z.max(1, keepdims=True)
    E = jnp.exp(Z); A.append(E / E.sum(1, keepdims=True))
    return A

# The data sets are arguments, not closed over: jax.jit would fold a closed-over array into the compiled program
# as a constant.
@jax.jit
def train_step(params, m, v, c1, c2, cost, correct, images, all_labels, idx):
    """One Adam step on the samples `idx`, with the bias corrections c1 = 1 - b1^t and c2 = 1 - b2^t of step t
    (computed by Python in double precision, as numpy_reference.py does); cost and correct add up the epoch's."""
    W = params[:L]
    X = images[idx]; labels = all_labels[idx]; Y = onehot[labels]; mb = idx.shape[0]
    A = forward(params, X); P = A[-1]
    cost = cost + -jnp.sum(Y * jnp.log(P + 1e-12)); correct = correct + jnp.sum(P.argmax(1) == labels, dtype=jnp.int32)
    dZ = (P - Y) / mb
    dW = [None] * L; db = [None] * L
    for l in range(L - 1, -1, -1):
        dW[l] = A[l].T @ dZ; db[l] = dZ.sum(0)
        if l > 0: dZ = (dZ @ W[l].T) * (A[l] > 0)
    grads = dW + db
    new_params, new_m, new_v = [], [], []
    for q, g, mq, vq in zip(params, grads, m, v):
        mq = b1*mq + (1-b1)*g; vq = b2*vq + (1-b2)*g*g
        mh = mq/c1; vh = vq/c2
        new_params.append(q - lr * mh / (jnp.sqrt(vh) + eps)); new_m.append(mq); new_v.append(vq)
    return new_params, new_m, new_v, cost, correct

@jax.jit
def test_accuracy(params, images, labels):
    return (forward(params, images)[-1].argmax(1) == labels).mean()*100

def epoch_totals():
    return jnp.zeros((), dt), jnp.zeros((), jnp.int32)

t = 0
# Compiled here for the first and the last batch's sizes (128 and the remainder): the outputs are dropped, so
# the state is untouched.
for size in {min(a.batch, n - s) for s in (0, (n - 1) // a.batch * a.batch)}:
    idx = np.arange(size, dtype=np.int32)
    jax.block_until_ready(train_step(params, m, v, 1-b1, 1-b2, *epoch_totals(), Xtr, Ytr, idx))
if a.test: jax.block_until_ready(test_accuracy(params, Xte, Yte))
if a.paced: print('ready', flush=True)
for ep in range(a.epochs):
    if a.paced and not sys.stdin.readline(): break
    t0 = time.perf_counter()
    perm = rng.permutation(n).astype(np.int32); cost, correct = epoch_totals()
    for s in range(0, n, a.batch):
        t += 1; idx = perm[s:s+a.batch]
        params, m, v, cost, correct = train_step(params, m, v, 1-b1**t, 1-b2**t, cost, correct, Xtr, Ytr, idx)
    # The steps run asynchronously: the epoch ends when the last one has.
    cost = float(cost); correct = int(correct); jax.block_until_ready(params)
    el = time.perf_counter() - t0
    te = float(test_accuracy(params, Xte, Yte)) if a.test else float('nan')
    print(f"epoch {ep+1}/{a.epochs} cost {cost/n:.4f} train_acc {correct/n*100:.2f} test_acc {te:.2f} epoch_s {el:.3f}", flush=True)
print(f"peak_rss_mb {peak_rss_mb():.1f}", flush=True)
