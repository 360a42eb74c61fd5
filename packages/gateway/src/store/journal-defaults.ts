// The journal's defaults, in a module of their own: the config schema states them without loading
// the journal (and proper-lockfile) on every config read.

/** A segment is closed and a new one begun once it holds this many bytes. */
export const SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * `write` mode, default: the longest a written record waits for its background fdatasync to start.
 * Each fdatasync costs a thread-pool wake-up on the event loop and a disk flush: at 10 ms they were
 * about 10% of the gateway's CPU at 500 req/s. 100 ms is MongoDB's journal commit interval; a
 * power cut can lose this much (PostgreSQL's asynchronous commit: up to 3 × 200 ms).
 */
export const SYNC_INTERVAL_MS = 100;
