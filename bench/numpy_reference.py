#!/usr/bin/env python3
"""The reference this project measures itself against: the seed notebook's network (784-512-256-10, ReLU,
softmax, Adam, He init, batch 128, shuffled every epoch) in NumPy, on the real Fashion-MNIST IDX files.
Prints per-epoch seconds and test accuracy; `fmnist bench` runs it beside our own training. With --paced it
prints "ready" once set up and trains each epoch only when a line arrives on stdin (ending at end of input), so
the bench can alternate its epochs with ours."""
import argparse, gzip, time, os, sys
import numpy as np

def load_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    ndim = magic & 0xff
    dims = [int.from_bytes(data[4+4*i:8+4*i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4+4*ndim).reshape(dims)

p = argparse.ArgumentParser()
p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
p.add_argument('--epochs', type=int, default=1)
p.add_argument('--batch', type=int, default=128)
p.add_argument('--lr', type=float, default=0.001)
p.add_argument('--dtype', default='float64')
p.add_argument('--seed', type=int, default=1)
p.add_argument('--limit', type=int, default=0)
p.add_argument('--paced', action='store_true')
a = p.parse_args()
dt = np.dtype(a.dtype)
Xtr = load_idx(os.path.join(a.data, 'train-images-idx3-ubyte.gz')).reshape(-1, 784).astype(dt) / 255.0
Ytr = load_idx(os.path.join(a.data, 'train-labels-idx1-ubyte.gz')).astype(np.int64)
Xte = load_idx(os.path.join(a.data, 't10k-images-idx3-ubyte.gz')).reshape(-1, 784).astype(dt) / 255.0
Yte = load_idx(os.path.join(a.data, 't10k-labels-idx1-ubyte.gz')).astype(np.int64)
if a.limit: Xtr, Ytr = Xtr[:a.limit], Ytr[:a.limit]
rng = np.random.default_rng(a.seed)
sizes = [784, 512, 256, 10]
W = [(rng.standard_normal((sizes[i], sizes[i+1])) * np.sqrt(2.0/sizes[i])).astype(dt) for i in range(3)]
b = [np.zeros(sizes[i+1], dt) for i in range(3)]
params = W + b
m = [np.zeros_like(q) for q in params]; v = [np.zeros_like(q) for q in params]
b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
def forward(X):
    Z1 = X @ W[0] + b[0]; A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W[1] + b[1]; A2 = np.maximum(Z2, 0)
    Z3 = A2 @ W[2] + b[2]; Z3 = Z3 - Z3.max(1, keepdims=True)
    E = np.exp(Z3); A3 = E / E.sum(1, keepdims=True)
    return A1, A2, A3
onehot = np.eye(10, dtype=dt)
n = len(Xtr)
if a.paced: print('ready', flush=True)
for ep in range(a.epochs):
    if a.paced and not sys.stdin.readline(): break
    t0 = time.perf_counter()
    perm = rng.permutation(n); cost = 0.0; correct = 0
    for s in range(0, n, a.batch):
        idx = perm[s:s+a.batch]; X = Xtr[idx]; Y = onehot[Ytr[idx]]; mb = len(idx)
        A1, A2, A3 = forward(X)
        cost += -np.sum(Y * np.log(A3 + 1e-12)); correct += int((A3.argmax(1) == Ytr[idx]).sum())
        dZ3 = (A3 - Y) / mb
        dW3 = A2.T @ dZ3; db3 = dZ3.sum(0)
        dZ2 = (dZ3 @ W[2].T) * (A2 > 0)
        dW2 = A1.T @ dZ2; db2 = dZ2.sum(0)
        dZ1 = (dZ2 @ W[1].T) * (A1 > 0)
        dW1 = X.T @ dZ1; db1 = dZ1.sum(0)
        grads = [dW1, dW2, dW3, db1, db2, db3]
        t += 1
        for i, g in enumerate(grads):
            m[i] = b1*m[i] + (1-b1)*g; v[i] = b2*v[i] + (1-b2)*g*g
            mh = m[i]/(1-b1**t); vh = v[i]/(1-b2**t)
            params[i] -= a.lr * mh / (np.sqrt(vh) + eps)
    el = time.perf_counter() - t0
    _, _, P = forward(Xte); te = (P.argmax(1) == Yte).mean()*100
    print(f"epoch {ep+1}/{a.epochs} cost {cost/n:.4f} train_acc {correct/n*100:.2f} test_acc {te:.2f} epoch_s {el:.3f}", flush=True)
