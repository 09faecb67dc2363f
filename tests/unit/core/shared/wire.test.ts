import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '@core/shared/wire';

describe('WebSocket messages', () => {
  it('stay JSON text without typed arrays', () => {
    const message = { id: 3, response: { ok: true, state: { version: '1' } } };
    expect(encodeMessage(message)).toBe(JSON.stringify(message));
    expect(decodeMessage(JSON.stringify(message))).toEqual(message);
  });

  it('carry typed arrays as bytes after the JSON, each padded to 8, laid out as documented', () => {
    const frame = encodeMessage({ a: Uint8Array.of(1, 2, 3), b: Float32Array.of(1.5) }) as Uint8Array;
    const json = '{"a":{"$typed":"Uint8Array","length":3},"b":{"$typed":"Float32Array","length":1}}';
    expect(new TextDecoder().decode(frame.subarray(0, 4))).toBe('FMB1');
    expect(new DataView(frame.buffer).getUint32(4, true)).toBe(json.length);
    expect(new TextDecoder().decode(frame.subarray(8, 8 + json.length))).toBe(json);
    const start = Math.ceil((8 + json.length) / 8) * 8;
    expect([...frame.subarray(start, start + 8)]).toEqual([1, 2, 3, 0, 0, 0, 0, 0]);
    // 1.5 as a little-endian float32 is 00 00 c0 3f.
    expect([...frame.subarray(start + 8, start + 12)]).toEqual([0, 0, 0xc0, 0x3f]);
    expect(frame.length).toBe(start + 16);
  });

  it('give back the same values, from an ArrayBuffer or from a view into a larger buffer', () => {
    const message = {
      id: 7,
      response: {
        ok: true,
        insight: {
          weights: [Float32Array.of(0.25, -1e-8), new Float32Array(0)],
          predictions: Uint8Array.of(9, 0, 255),
          index: Int32Array.of(-5),
        },
        testImages: { images: new Uint8Array(7).fill(200), labels: Uint8Array.of(4) },
      },
    };
    const frame = encodeMessage(message) as Uint8Array;
    expect(decodeMessage(frame.slice().buffer)).toEqual(message);
    const shifted = new Uint8Array(frame.length + 3);
    shifted.set(frame, 3);
    const decoded = decodeMessage(shifted.subarray(3)) as typeof message;
    expect(decoded).toEqual(message);
    expect(decoded.response.insight.weights[0]).toBeInstanceOf(Float32Array);
  });

  it('sends only the viewed part of a larger buffer', () => {
    const big = new Uint8Array(1000).fill(1);
    const frame = encodeMessage({ part: big.subarray(10, 14) }) as Uint8Array;
    expect(frame.length).toBeLessThan(100);
    expect(decodeMessage(frame)).toEqual({ part: Uint8Array.of(1, 1, 1, 1) });
  });

  it('refuses a frame whose JSON names an array type it does not know, or a negative length', () => {
    const frame = (json: string): Uint8Array => {
      const text = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + text.length + 8);
      out.set(new TextEncoder().encode('FMB1'));
      new DataView(out.buffer).setUint32(4, text.length, true);
      out.set(text, 8);
      return out;
    };
    expect(() => decodeMessage(frame('{"a":{"$typed":"Object","length":1}}'))).toThrow(
      'a malformed array in a message frame',
    );
    expect(() => decodeMessage(frame('{"a":{"$typed":"Uint8Array","length":-1}}'))).toThrow(
      'a malformed array in a message frame',
    );
    expect(() => decodeMessage(frame('{"a":{"$typed":"constructor","length":1}}'))).toThrow(
      'a malformed array in a message frame',
    );
    expect(decodeMessage(frame('{"a":{"$typed":"Uint8Array","length":2}}'))).toEqual({ a: new Uint8Array(2) });
  });

  it('refuses frames that are not messages or are cut short', () => {
    expect(() => decodeMessage(new Uint8Array(4))).toThrow('not a message frame');
    const frame = encodeMessage({ a: new Float32Array(16) }) as Uint8Array;
    expect(() => decodeMessage(frame.subarray(0, frame.length - 8))).toThrow('cut short');
    expect(() => decodeMessage(frame.subarray(0, 12))).toThrow('cut short');
  });
});
