/**
 * Messages over the browser host's WebSocket. A message without typed arrays is JSON text. One that carries
 * them (test images, a model's outputs and weights) is a single binary frame, so 10 000 images travel as
 * 7.8 MB of bytes rather than as JSON numbers:
 *
 *   "FMB1" | JSON length (u32 LE) | JSON (UTF-8) | padding to 8 | each array's bytes, each padded to 8
 *
 * In the JSON each typed array is replaced by { "$typed": <constructor name>, "length": <elements> }, in
 * the order of the parts. Little-endian throughout, as every platform the app runs on.
 */

const MAGIC = 'FMB1';
const TYPED_KEY = '$typed';

const CONSTRUCTORS = {
  Uint8Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;
type TypedName = keyof typeof CONSTRUCTORS;
type Typed = InstanceType<(typeof CONSTRUCTORS)[TypedName]>;

const padded = (n: number): number => Math.ceil(n / 8) * 8;

function typedName(value: unknown): TypedName | null {
  for (const name of Object.keys(CONSTRUCTORS) as TypedName[]) if (value instanceof CONSTRUCTORS[name]) return name;
  return null;
}

/** A message as JSON text, or as one binary frame when it holds typed arrays. */
export function encodeMessage(value: unknown): string | Uint8Array {
  const parts: Typed[] = [];
  const json = JSON.stringify(value, (_key, item: unknown) => {
    const name = typedName(item);
    if (!name) return item;
    parts.push(item as Typed);
    return { [TYPED_KEY]: name, length: (item as Typed).length };
  });
  if (parts.length === 0) return json;
  const text = new TextEncoder().encode(json);
  const start = padded(8 + text.length);
  const frame = new Uint8Array(start + parts.reduce((sum, part) => sum + padded(part.byteLength), 0));
  frame.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(frame.buffer).setUint32(4, text.length, true);
  frame.set(text, 8);
  let offset = start;
  for (const part of parts) {
    frame.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += padded(part.byteLength);
  }
  return frame;
}

/** The message `encodeMessage` made; throws on a frame that is not one. */
export function decodeMessage(data: string | ArrayBuffer | Uint8Array): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC)
    throw new Error('not a message frame');
  const textLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + textLength > bytes.length) throw new Error('a message frame cut short');
  let offset = padded(8 + textLength);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + textLength)), (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || !(TYPED_KEY in item)) return item;
    const { [TYPED_KEY]: name, length } = item as { [TYPED_KEY]: unknown; length: unknown };
    if (
      typeof name !== 'string' ||
      !Object.hasOwn(CONSTRUCTORS, name) ||
      !Number.isSafeInteger(length) ||
      (length as number) < 0
    ) {
      throw new Error('a malformed array in a message frame');
    }
    const Constructor = CONSTRUCTORS[name as TypedName];
    const byteLength = (length as number) * Constructor.BYTES_PER_ELEMENT;
    if (offset + byteLength > bytes.length) throw new Error('a message frame cut short');
    // A copy: the frame's buffer may be shared (Node's pooled buffers) or unaligned.
    const array = new Constructor(length as number);
    new Uint8Array(array.buffer).set(bytes.subarray(offset, offset + byteLength));
    offset += padded(byteLength);
    return array;
  });
}
