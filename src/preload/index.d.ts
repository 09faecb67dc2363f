import type { StudioBridge } from '../core/api/contract';

declare global {
  interface Window {
    /** Present in the Electron app; absent in the browser host, where the renderer uses a WebSocket. */
    studio?: StudioBridge;
  }
}
