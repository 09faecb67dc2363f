/** The two IPC channels between the preload and Electron's main process (all traffic follows contract.ts). */
export const IPC_REQUEST = 'studio:request';
export const IPC_EVENT = 'studio:event';
