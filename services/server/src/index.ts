export { startDevServer, type RunningServer, type DevServerOptions } from './dev-server';
export { parseDevServerConfig, DEV_DEFAULTS, type DevServerConfig } from './config';
