/** The two IPC channels between the preload and Electron's main process (all traffic follows contract.ts). */
export const IPC_REQUEST = 'studio:request';
export const IPC_EVENT = 'studio:event';
/** Files dropped on the window, their paths read in the preload (see OpenFilesMessage). */
export const IPC_OPEN_FILES = 'studio:open-files';
