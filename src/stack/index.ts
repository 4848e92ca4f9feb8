export { startEmbeddedStack, type RunningStack, type StartOptions } from './embedded.ts';
export { startComponent, COMPONENTS, type ComponentName, type RunningProcess } from './process.ts';
export { busPartitions, kafkaBrokers, openBus, openStore, storeUrl } from './backends.ts';
export { REPLAYABLE_GROUPS, STORAGE_GROUP, startGroupConsumer, type ReplayableGroup } from './components.ts';
export { planReplay, rewindGroup, replayProgress, restoreAfterReplay, type ReplayPlan, type ReplayRequest } from './replay.ts';
