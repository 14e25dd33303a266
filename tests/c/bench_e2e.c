/* C benchmark: end-to-end delivery through libauditwire against a running server.
 *
 *   AUDITWIRE_TEST_BASE_URL=http://127.0.0.1:PORT bench_e2e [EVENTS] [WORKERS]
 *
 * Emits EVENTS (default 50000) from one thread, flushes, and prints one JSON line: caller
 * median and mean ns per emit, events/s end to end, and the process's CPU microseconds per
 * delivered event (user + system, from getrusage). */
#define _POSIX_C_SOURCE 200809L
#include <auditwire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char ORG[] = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
static const char EVENT[] =
    "{\"action\":\"user.signed_in\",\"occurred_at\":\"2026-02-02T16:35:39.317Z\",\"version\":1,"
    "\"actor\":{\"id\":\"user_01GBNJC3MX9ZZJW1FSTF4C5938\",\"type\":\"user\",\"name\":\"Jon Smith\","
    "\"metadata\":{\"role\":\"admin\"}},\"targets\":[{\"id\":\"team_01GBNJD4MKHVKJGEWK42JNMBGS\","
    "\"type\":\"team\",\"name\":\"Team\"}],\"context\":{\"location\":\"123.123.123.123\","
    "\"user_agent\":\"Chrome/104.0.0.0\"},\"metadata\":{\"owner\":\"user_01GBTCQ2\"}}";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *url = getenv("AUDITWIRE_TEST_BASE_URL");
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr, "set AUDITWIRE_TEST_BASE_URL to a running auditwire serve\n");
    return 2;
  }
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 50000;
  size_t workers = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 16;
  auditwire_options *o = auditwire_options_new();
  auditwire_options_set_api_key(o, "sk_bench", 8);
  auditwire_options_set_base_url(o, url, strlen(url));
  auditwire_options_set_ignore_env(o, true);
  auditwire_options_set_workers(o, workers);
  auditwire_options_set_overflow(o, AUDITWIRE_OVERFLOW_BLOCK, 60000);
  /* Room for every event: the caller time is emit itself, not a wait for room. */
  auditwire_options_set_queue_capacity(o, n + 16);
  auditwire_options_set_queue_max_bytes(o, (size_t)1 << 30);
  auditwire_client *c = NULL;
  if (auditwire_client_new(o, &c) != AUDITWIRE_RESULT_OK) {
    fprintf(stderr, "cannot create the client\n");
    return 1;
  }
  uint64_t *ns = malloc(n * sizeof *ns);
  size_t refused = 0;
  double cpu0 = cpu_seconds();
  uint64_t start = now_ns();
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    if (auditwire_client_emit_json(c, ORG, sizeof ORG - 1, EVENT, sizeof EVENT - 1, NULL, 0) !=
        AUDITWIRE_RESULT_OK)
      refused++;
    ns[i] = now_ns() - t0;
  }
  uint64_t remaining = 0;
  auditwire_client_flush(c, 600000, &remaining);
  double wall = (double)(now_ns() - start) / 1e9;
  double cpu = cpu_seconds() - cpu0;
  auditwire_stats s;
  auditwire_client_stats(c, &s);
  qsort(ns, n, sizeof *ns, cmp);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += (double)ns[i];
  printf("{\"events\":%zu,\"workers\":%zu,\"delivered\":%llu,\"remaining\":%llu,\"refused\":%zu,"
         "\"emit_median_ns\":%llu,\"emit_mean_ns\":%.0f,\"events_per_sec\":%.1f,"
         "\"cpu_us_per_event\":%.2f}\n",
         n, workers, (unsigned long long)s.delivered, (unsigned long long)remaining, refused,
         (unsigned long long)ns[n / 2], sum / (double)n, (double)s.delivered / wall,
         cpu * 1e6 / (double)(s.delivered ? s.delivered : 1));
  free(ns);
  auditwire_client_free(c);
  return (refused == 0 && remaining == 0) ? 0 : 1;
}
