/**
 * The safetensors container (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw
 * little-endian tensor bytes, offsets relative to the start of that data. We pad the header with spaces to
 * a multiple of 8 (other tools may not; decoding copies each tensor into an aligned buffer). Decoding
 * validates everything and reports a one-line problem naming the file.
 */

import { describeValue, FmnistError, quote } from '@core/shared/errors';

export type Dtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';

const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };
/** Other dtypes the format defines: recognised so a foreign file gets a precise message. */
const FOREIGN_DTYPES = new Set(['BOOL', 'F16', 'BF16', 'I8', 'I16', 'U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3']);
/** Refuse absurd headers before parsing them (the format's reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * A valid header nests 3 levels (header, tensor entry, shape). Deeper input is refused before JSON.parse: a
 * 100 MB header of brackets takes V8 seconds and gigabytes to parse, and anything walking it overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

export interface TensorInput {
  dtype: Dtype;
  shape: number[];
  data: ArrayBufferView;
}

export interface DecodedTensor {
  dtype: Dtype;
  shape: number[];
  /** Where its bytes start in the data section. */
  offset: number;
  /** A copy of the tensor's bytes, aligned for typed-array views. */
  bytes: Uint8Array;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialises tensors (in the given order) and string metadata. */
export function encodeSafetensors(tensors: [string, TensorInput][], metadata: Record<string, string>): Uint8Array {
  return concatBytes(safetensorsParts(tensors, metadata));
}

/**
 * The file as its parts, in order: the length and header, then each tensor's bytes (views of its data, no
 * copy), so a large file can be written without ever being in memory whole.
 */
export function safetensorsParts(tensors: [string, TensorInput][], metadata: Record<string, string>): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const bytes = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
    if (tensor.data.byteLength !== bytes) {
      throw new RangeError(`tensor ${name}: ${tensor.data.byteLength} bytes do not match shape [${tensor.shape}]`);
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  const headerBytes = encoder.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += ' '.repeat(padded - headerBytes.length);
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(encoder.encode(json), 8);
  return [
    head,
    ...tensors.map(([, tensor]) => new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)),
  ];
}

/** The parts one after the other, in one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let position = 0;
  for (const part of parts) {
    out.set(part, position);
    position += part.byteLength;
  }
  return out;
}

/** Parses and validates a safetensors file's bytes. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const bad = (problem: string): FmnistError => new FmnistError('bad-input', problem, { file });
  if (bytes.length < 8) throw bad(`is ${bytes.length} bytes long, too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw bad(
      headerLength > BigInt(MAX_HEADER_BYTES)
        ? 'is not a safetensors file (its header length is implausible)'
        : 'is truncated: the header runs past the end of the file',
    );
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw bad(`has a header nested deeper than ${MAX_JSON_DEPTH} levels`);
    header = JSON.parse(text);
  } catch (error) {
    if (error instanceof FmnistError) throw error;
    throw bad('is not a safetensors file (its header is not valid JSON)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw bad('is not a safetensors file (its header is not a JSON object)');
  }
  const dataLength = bytes.length - headerEnd;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, DecodedTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw bad('has a malformed __metadata__ entry');
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') throw bad(`metadata ${quote(key)} is not a string (${describeValue(value)})`);
        metadata[key] = value;
      }
      continue;
    }
    const t = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const tensor = `tensor ${quote(name)}`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw bad(`${tensor} has a malformed header entry`);
    if (typeof t.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, t.dtype)) {
      if (t.dtype === undefined) throw bad(`${tensor} has no dtype`);
      if (typeof t.dtype !== 'string') throw bad(`${tensor} has a malformed dtype (${describeValue(t.dtype)})`);
      throw bad(`${tensor} has ${FOREIGN_DTYPES.has(t.dtype) ? 'unsupported' : 'unknown'} dtype ${quote(t.dtype)}`);
    }
    const dtype = t.dtype as Dtype;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`${tensor} has a malformed shape`);
    }
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad(`${tensor} has malformed data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw bad(
        end > dataLength
          ? `is truncated: ${tensor} ends at byte ${end} of ${dataLength} data bytes`
          : `${tensor} has data_offsets that end before they begin`,
      );
    }
    const shape = t.shape as number[];
    if (end - begin !== elementCount(shape) * DTYPE_BYTES[dtype]) {
      throw bad(
        `${tensor} has ${end - begin} bytes, but shape ${describeShape(shape)} of ${dtype} needs ${elementCount(shape) * DTYPE_BYTES[dtype]}`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      dtype,
      shape,
      offset: begin,
      bytes: alignedCopy(bytes.subarray(headerEnd + begin, headerEnd + end)),
    });
  }
  // The format requires the tensors to cover the data exactly: no overlaps, no holes.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered)
      throw bad(
        begin < covered
          ? `tensor ${quote(name)} overlaps another tensor`
          : `has a hole in its data before tensor ${quote(name)}`,
      );
    covered = end;
  }
  if (covered !== dataLength) throw bad(`has ${dataLength - covered} bytes after its last tensor`);
  return { tensors, metadata };
}

/** A shape for a message: [30,784], or its first dimensions when there are many. */
export function describeShape(shape: number[]): string {
  return shape.length <= 8 ? `[${shape.join(',')}]` : `[${shape.slice(0, 8).join(',')},… (${shape.length} dimensions)]`;
}

/** Whether JSON text nests arrays and objects deeper than `limit` (strings skipped; the text need not be valid). */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * A copy in a fresh buffer, so typed-array views of it are aligned whatever the header's length (other tools
 * do not pad it). Not `bytes.slice()`: on a Node Buffer (what readFile returns) that is a view, not a copy.
 */
function alignedCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** The tensor's values as float32 (converting F64), or null for other dtypes. */
export function asFloat32(tensor: DecodedTensor): Float32Array | null {
  if (tensor.dtype === 'F32')
    return new Float32Array(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength / 4);
  if (tensor.dtype === 'F64')
    return Float32Array.from(
      new Float64Array(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength / 8),
    );
  return null;
}
