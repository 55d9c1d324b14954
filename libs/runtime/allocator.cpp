// jemalloc's options for every service (compiled into each service executable when it is
// linked with jemalloc, see the top-level CMakeLists.txt; MALLOC_CONF in the environment
// still overrides them). Measured on the 20,000-order T1 run (bench/README.md):
//   - narenas:1 — one arena: the threads' small allocations come from their own caches
//     (tcache), so the arena's lock is rarely taken, and one arena keeps the least slack;
//   - tcache_max:1024, tcache_nslots_small_max:32 — each thread caches up to 32 free
//     blocks per size class, of up to 1 KiB (larger ones go back to the arena): with 4 KiB
//     and jemalloc's 200 blocks, payment-service held 32 MiB instead of 30 for a few
//     percent less CPU;
//   - dirty_decay_ms:200, muzzy_decay_ms:0 — freed pages go back to the system within a
//     fifth of a second instead of ten, so a burst does not leave its peak resident.
// No background thread (the default): a service creates no thread for its allocator.
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks up
const char* malloc_conf = "narenas:1,tcache_max:1024,tcache_nslots_small_max:32,dirty_decay_ms:200,muzzy_decay_ms:0";
}
