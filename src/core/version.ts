/** The app's version, from package.json, recorded in checkpoints and shown in the UI and CLI. */
import packageJson from '../../package.json';

export const APP_VERSION: string = packageJson.version;
