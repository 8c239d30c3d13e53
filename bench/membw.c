/* Memory read bandwidth, STREAM-style: sums a buffer far larger than the
 * last-level cache with all threads and reports the best of several passes
 * in GB/s. Used by the benchmarks to compute roofline ratios in the same run
 * as the measurement they qualify. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Usage: membw MB [passes]   reads an anonymous buffer of MB megabytes;
 *        membw FILE [passes] reads a memory-mapped file (as a compiled model
 *                            reads its weights). */
int main(int argc, char **argv) {
  const char *arg = argc > 1 ? argv[1] : "1024";
  int passes = argc > 2 ? atoi(argv[2]) : 5;
  size_t mb, n;
  float *a;
  struct stat st;
  int fd = open(arg, O_RDONLY);
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    n = (size_t)st.st_size / sizeof(float);
    mb = (size_t)st.st_size >> 20;
    a = mmap(NULL, n * sizeof(float), PROT_READ, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED)
      return 1;
  } else {
    mb = (size_t)atol(arg);
    n = mb * 1024 * 1024 / sizeof(float);
    a = aligned_alloc(64, n * sizeof(float));
    if (!a)
      return 1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i)
      a[i] = (float)(i & 7);
  }
  double best = 0, sink = 0;
  for (int p = 0; p < passes; ++p) {
    double t0 = now();
    double total = 0;
    const size_t block = 1 << 16;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; i += block) {
      /* Four independent 64-byte accumulators keep enough loads in flight. */
      typedef float v16 __attribute__((vector_size(64)));
      size_t end = i + block < n ? i + block : n;
      v16 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
      size_t j = i;
      for (; j + 64 <= end; j += 64) {
        s0 += *(const v16 *)(a + j);
        s1 += *(const v16 *)(a + j + 16);
        s2 += *(const v16 *)(a + j + 32);
        s3 += *(const v16 *)(a + j + 48);
      }
      v16 s = s0 + s1 + s2 + s3;
      float t = 0;
      for (int k = 0; k < 16; ++k)
        t += s[k];
      for (; j < end; ++j)
        t += a[j];
      total += t;
    }
    double dt = now() - t0;
    sink += total;
    double gbs = n * sizeof(float) / dt / 1e9;
    if (gbs > best)
      best = gbs;
  }
  printf("%.2f\n", best);
  fprintf(stderr, "membw: %zu MB x %d passes, %d threads, best %.2f GB/s (checksum %g)\n",
          mb, passes, omp_get_max_threads(), best, sink);
  return 0;
}
