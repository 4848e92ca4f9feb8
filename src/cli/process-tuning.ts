/**
 * Process-wide settings that must be in place before the components start, so they live in
 * the first module the command loads (and the benchmarks' servers load it the same way).
 */
import { setFlagsFromString } from 'node:v8';

// The embedded bus spreads writes and fsyncs over many partition files through libuv's
// threadpool; its default of 4 threads queues them. libuv reads this once, on first use.
process.env.UV_THREADPOOL_SIZE ??= '16';

// Request bodies are Buffers, memory outside V8's heap. By default every 64 MB of them forces
// a full mark-compact: 13 a second at 300 MB/s of ingest, on a heap of about 25 MB. Counted in
// the heap's global limit instead, they trigger half as many, and the gateway took 10 to 20 %
// more spans per second in the benchmark (same run, same load).
setFlagsFromString('--external-memory-accounted-in-global-limit');
