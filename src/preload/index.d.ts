import type { StudioBridge } from '@core/shared/contract';

declare global {
  interface Window {
    /** Present in the Electron app; absent in the browser host, where the renderer uses a WebSocket. */
    studio?: StudioBridge;
  }
}
