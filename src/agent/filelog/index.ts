/**
 * The agent's log-file receiver: tails files matched by globs through rotation (rename and
 * copy-truncate), truncation and deletion, joins multiline records, parses severity and time
 * from JSON lines, logfmt and level words, and checkpoints its positions with every batch so
 * a restart neither skips nor repeats a line.
 */
export type { FileLogOptions } from './options.ts';
export { createFileLogReceiver } from './receiver.ts';
export { parseLogLine, type ParsedLine } from './parse.ts';
export { CheckpointError } from './checkpoint.ts';
