/**
 * Safetensors files written by hand, as other tools write them (PyTorch's, Hugging Face's): the JSON header
 * unpadded or padded, the tensors in any order. Independent of src/core/checkpoint/safetensors.ts, so tests of
 * the reader do not check it against its own writer.
 */

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A safetensors file: 8-byte little-endian header length, the header JSON (padded with `padTo` spaces), data. */
export function rawSafetensors(
  tensors: RawTensor[],
  metadata: Record<string, string> | null,
  options: { padTo?: number; headerSuffix?: string } = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.length],
    };
    offset += tensor.data.length;
  }
  let json = JSON.stringify(header) + (options.headerSuffix ?? '');
  const pad = options.padTo ?? 1;
  while (Buffer.byteLength(json) % pad !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors) {
    out.set(tensor.data, position);
    position += tensor.data.length;
  }
  return out;
}

/** A file of exactly this header text (unpadded, however malformed) and data, as a hostile writer makes one. */
export function withHeaderText(text: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length));
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  return out;
}

export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

/**
 * A bare PyTorch state dict of a 784-hidden-10 MLP (nn.Sequential names, [out, in] weights) whose values are
 * value(layer, index) in file order.
 */
export function bareStateDict(
  hidden: number,
  value: (layer: number, kind: 'weight' | 'bias', index: number) => number,
  options: { padTo?: number; headerSuffix?: string } = {},
): Buffer {
  const sizes = [784, hidden, 10];
  const tensors: RawTensor[] = [];
  for (let l = 0; l < 2; l++) {
    const weights = Array.from({ length: sizes[l + 1] * sizes[l] }, (_, i) => value(l, 'weight', i));
    const biases = Array.from({ length: sizes[l + 1] }, (_, i) => value(l, 'bias', i));
    tensors.push({
      name: `${2 * l}.weight`,
      dtype: 'F32',
      shape: [sizes[l + 1], sizes[l]],
      data: float32Bytes(weights),
    });
    tensors.push({ name: `${2 * l}.bias`, dtype: 'F32', shape: [sizes[l + 1]], data: float32Bytes(biases) });
  }
  return rawSafetensors(tensors, null, options);
}
