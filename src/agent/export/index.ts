/**
 * The agent's exporter: OTLP/HTTP (protobuf, gzip, bearer key) to the gateway through a disk
 * buffer that survives restarts and kill -9, with a size cap that drops the oldest data.
 */
export { createBufferedExporter } from './exporter.ts';
export type { BufferedExporter } from './exporter.ts';
export { DEFAULT_CAP_BYTES } from './options.ts';
export type { ExporterOptions } from './options.ts';
