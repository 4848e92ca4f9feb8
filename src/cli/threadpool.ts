// The embedded bus spreads writes and fsyncs over many partition files through libuv's
// threadpool; its default of 4 threads queues them. libuv reads this once, on first use,
// so it is set in the first module the command loads.
process.env.UV_THREADPOOL_SIZE ??= '16';
