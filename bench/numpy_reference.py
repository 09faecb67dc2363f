#!/usr/bin/env python3
"""The reference this project measures itself against: the seed notebook's network (784-512-256-10, ReLU,
softmax, Adam, He init, batch 128, shuffled every epoch) in NumPy, on the real Fashion-MNIST IDX files.
Prints per-epoch seconds and test accuracy, then the process's peak resident memory; `fmnist bench` runs it
beside our own training. With --paced it prints "ready" once set up and trains each epoch only when a line
arrives on stdin (ending at end of input), so the bench can alternate its epochs with ours. --hidden and
--batch-size change the network and the batch for `npm run bench:scale`; --no-test leaves out the test
evaluation, whose activations for 10 000 images would otherwise decide the peak memory of a wide network. Its
first line names NumPy's BLAS and its speed (reference_common.blas_line)."""
import time, os, sys
import numpy as np
from reference_common import blas_line, load_idx, parse_arguments, peak_rss_mb, scaled

a = parse_arguments('float64')
print(blas_line(), flush=True)
dt = np.dtype(a.dtype)
Xtr = load_idx(os.path.join(a.data, 'train-images-idx3-ubyte.gz'))
Ytr = load_idx(os.path.join(a.data, 'train-labels-idx1-ubyte.gz')).astype(np.int64)
if a.limit: Xtr, Ytr = Xtr[:a.limit], Ytr[:a.limit]
Xtr = scaled(Xtr, dt)
# The test images are read even with --no-test, as a notebook with its test set reads them: freeing their
# 8 MB of bytes after the conversion raises glibc's mmap threshold, so the batches' temporaries then come from the
# heap. Without that, every batch maps and unmaps them, and an epoch takes about twice as long (2.1-2.4 s against
# 1.16 s for the default network on a 2-core machine), which would be no fair peer.
Xte = scaled(load_idx(os.path.join(a.data, 't10k-images-idx3-ubyte.gz')), dt)
if a.test:
    Yte = load_idx(os.path.join(a.data, 't10k-labels-idx1-ubyte.gz')).astype(np.int64)
else:
    del Xte
rng = np.random.default_rng(a.seed)
sizes = [784] + [int(s) for s in a.hidden.split(',') if s.strip()] + [10]
L = len(sizes) - 1
W = [(rng.standard_normal((sizes[i], sizes[i+1])) * np.sqrt(2.0/sizes[i])).astype(dt) for i in range(L)]
b = [np.zeros(sizes[i+1], dt) for i in range(L)]
params = W + b
m = [np.zeros_like(q) for q in params]; v = [np.zeros_like(q) for q in params]
b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
def forward(X):
    """The activations of every layer, the input first and the softmax output last."""
    A = [X]
    for l in range(L - 1):
        A.append(np.maximum(A[-1] @ W[l] + b[l], 0))
    Z = A[-1] @ W[L-1] + b[L-1]; Z = Z - Z.max(1, keepdims=True)
    E = np.exp(Z); A.append(E / E.sum(1, keepdims=True))
    return A
onehot = np.eye(10, dtype=dt)
n = len(Xtr)
if a.paced: print('ready', flush=True)
for ep in range(a.epochs):
    if a.paced and not sys.stdin.readline(): break
    t0 = time.perf_counter()
    perm = rng.permutation(n); cost = 0.0; correct = 0
    for s in range(0, n, a.batch):
        idx = perm[s:s+a.batch]; X = Xtr[idx]; Y = onehot[Ytr[idx]]; mb = len(idx)
        A = forward(X); P = A[-1]
        cost += -np.sum(Y * np.log(P + 1e-12)); correct += int((P.argmax(1) == Ytr[idx]).sum())
        dZ = (P - Y) / mb
        dW = [None] * L; db = [None] * L
        for l in range(L - 1, -1, -1):
            dW[l] = A[l].T @ dZ; db[l] = dZ.sum(0)
            if l > 0: dZ = (dZ @ W[l].T) * (A[l] > 0)
        grads = dW + db
        t += 1
        for i, g in enumerate(grads):
            m[i] = b1*m[i] + (1-b1)*g; v[i] = b2*v[i] + (1-b2)*g*g
            mh = m[i]/(1-b1**t); vh = v[i]/(1-b2**t)
            params[i] -= a.lr * mh / (np.sqrt(vh) + eps)
    el = time.perf_counter() - t0
    te = (forward(Xte)[-1].argmax(1) == Yte).mean()*100 if a.test else float('nan')
    print(f"epoch {ep+1}/{a.epochs} cost {cost/n:.4f} train_acc {correct/n*100:.2f} test_acc {te:.2f} epoch_s {el:.3f}", flush=True)
print(f"peak_rss_mb {peak_rss_mb():.1f}", flush=True)
