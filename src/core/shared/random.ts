/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through splitmix32, with an exportable state so a
 * resumed run continues the exact same stream. Separate named streams (init, shuffle, split) come from one
 * user seed, so changing e.g. the validation split does not change the initial weights.
 */

export type RandomState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  private constructor(state: RandomState) {
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** A generator for the named stream of a user seed. */
  static fromSeed(seed: number, stream = ''): Random {
    const next = splitmix32((seed >>> 0) ^ hashString(stream));
    const state: RandomState = [next(), next(), next(), next()];
    if (state.every((word) => word === 0)) state[0] = 1;
    return new Random(state);
  }

  static fromState(state: RandomState): Random {
    return new Random([...state] as RandomState);
  }

  /** The full state; a normal deviate cached by Box–Muller is dropped, so save between whole draws. */
  getState(): RandomState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** A standard normal deviate (Box–Muller). */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle(values: Int32Array | number[]): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
