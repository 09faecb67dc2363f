/**
 * ONNX export: the network as Gemm → Relu → … → Gemm → Softmax with a 1×784 float input (pixels scaled to
 * [0, 1]) named "input" and a 1×10 output "probabilities". Written with a minimal protobuf encoder for the
 * handful of onnx.proto messages needed (field numbers from onnx.proto3). Gemm's default transB = 0 means
 * the weights are stored [in, out], which is our canonical layout.
 */

import { layerSizes, type MlpParameters } from '@core/shared/mlp';
import { APP_VERSION } from '../version';

/** ONNX IR version 8 with opset 13 (Softmax over one axis): read by every current runtime. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';

const FLOAT = 1;
const ATTRIBUTE_INT = 2;

/** Protocol buffer wire encoding: a message is a list of fields. */
class Message {
  private readonly parts: Uint8Array[] = [];

  private static varint(value: number | bigint): number[] {
    let n = BigInt(value);
    const out: number[] = [];
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n) byte |= 0x80;
      out.push(byte);
    } while (n);
    return out;
  }

  private key(field: number, wireType: number): void {
    this.parts.push(Uint8Array.from(Message.varint((field << 3) | wireType)));
  }

  int(field: number, value: number): this {
    this.key(field, 0);
    this.parts.push(Uint8Array.from(Message.varint(value)));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.parts.push(Uint8Array.from(Message.varint(value.length)), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.encode());
  }

  encode(): Uint8Array {
    const length = this.parts.reduce((sum, part) => sum + part.length, 0);
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function tensor(name: string, dims: number[], values: Float32Array): Message {
  const message = new Message();
  for (const dim of dims) message.int(1, dim); // dims
  message.int(2, FLOAT).string(8, name); // data_type, name
  // raw_data (little-endian)
  return message.bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

function valueInfo(name: string, dims: number[]): Message {
  const shape = new Message();
  for (const dim of dims) shape.message(1, new Message().int(1, dim)); // dim { dim_value }
  const tensorType = new Message().int(1, FLOAT).message(2, shape); // elem_type, shape
  return new Message().string(1, name).message(2, new Message().message(1, tensorType)); // name, type { tensor_type }
}

function node(opType: string, inputs: string[], outputs: string[], name: string, attributes: Message[] = []): Message {
  const message = new Message();
  for (const input of inputs) message.string(1, input);
  for (const output of outputs) message.string(2, output);
  message.string(3, name).string(4, opType);
  for (const attribute of attributes) message.message(5, attribute);
  return message;
}

/** The model as ONNX bytes. */
export function encodeOnnx(params: MlpParameters): Uint8Array {
  const sizes = layerSizes(params.shape);
  const graph = new Message();
  let current = ONNX_INPUT;
  const initializers: Message[] = [];
  params.weights.forEach((w, l) => {
    const weight = `fc${l + 1}.weight`;
    const bias = `fc${l + 1}.bias`;
    initializers.push(tensor(weight, [sizes[l], sizes[l + 1]], w), tensor(bias, [sizes[l + 1]], params.biases[l]));
    const last = l === params.weights.length - 1;
    const linear = last ? 'logits' : `fc${l + 1}`;
    graph.message(1, node('Gemm', [current, weight, bias], [linear], `fc${l + 1}`));
    current = linear;
    if (!last) {
      graph.message(1, node('Relu', [linear], [`relu${l + 1}`], `relu${l + 1}`));
      current = `relu${l + 1}`;
    }
  });
  const axis = new Message().string(1, 'axis').int(3, 1).int(20, ATTRIBUTE_INT); // name, i, type
  graph.message(1, node('Softmax', [current], [ONNX_OUTPUT], 'softmax', [axis]));
  graph.string(2, 'fashion_mnist_mlp');
  for (const initializer of initializers) graph.message(5, initializer);
  graph.string(
    10,
    `Fashion-MNIST classifier ${sizes.join('-')}: input pixels scaled to [0, 1], output class probabilities.`,
  );
  graph.message(11, valueInfo(ONNX_INPUT, [1, sizes[0]]));
  graph.message(12, valueInfo(ONNX_OUTPUT, [1, sizes[sizes.length - 1]]));

  return new Message()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'Fashion-MNIST Studio')
    .string(3, APP_VERSION)
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, ONNX_OPSET))
    .encode();
}
