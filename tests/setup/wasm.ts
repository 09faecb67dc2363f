// Test workers run on plain Node: enable relaxed SIMD as the CLI and the app do, so the fused kernels are tested.
import { enableWasmFeatures } from '@core/engine/runtime';

enableWasmFeatures();
