export { startEmbeddedStack, type RunningStack, type StartOptions } from './embedded.ts';
