/* C benchmark: the cost of auditwire_client_emit_json per event on the caller's thread,
 * median over every call, from 1 and from 4 threads sharing one client.
 *
 *   bench_emit [EVENTS_PER_THREAD]
 *
 * Events go to the in-memory queue of a client whose endpoint is AUDITWIRE_TEST_BASE_URL
 * (else a closed loopback port: workers then sit in backoff, so only emit is measured). */
#define _POSIX_C_SOURCE 200809L
#include <auditwire.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ORG[] = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
static const char EVENT[] =
    "{\"action\":\"user.signed_in\",\"occurred_at\":\"2026-02-02T16:35:39.317Z\",\"version\":1,"
    "\"actor\":{\"id\":\"user_01GBNJC3MX9ZZJW1FSTF4C5938\",\"type\":\"user\",\"name\":\"Jon Smith\","
    "\"metadata\":{\"role\":\"admin\"}},\"targets\":[{\"id\":\"team_01GBNJD4MKHVKJGEWK42JNMBGS\","
    "\"type\":\"team\",\"name\":\"Team\"}],\"context\":{\"location\":\"123.123.123.123\","
    "\"user_agent\":\"Chrome/104.0.0.0\"},\"metadata\":{\"owner\":\"user_01GBTCQ2\"}}";

struct run {
  auditwire_client *client;
  size_t n;
  uint64_t *ns;
  size_t failures;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *emit_loop(void *arg) {
  struct run *r = arg;
  for (size_t i = 0; i < r->n; i++) {
    uint64_t t0 = now_ns();
    auditwire_result rc = auditwire_client_emit_json(r->client, ORG, sizeof ORG - 1, EVENT,
                                                     sizeof EVENT - 1, NULL, 0);
    r->ns[i] = now_ns() - t0;
    if (rc != AUDITWIRE_RESULT_OK) r->failures++;
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int bench(int threads, size_t per_thread) {
  const char *url = getenv("AUDITWIRE_TEST_BASE_URL");
  if (url == NULL || url[0] == '\0') url = "http://127.0.0.1:9";
  auditwire_options *o = auditwire_options_new();
  auditwire_options_set_api_key(o, "sk_bench", 8);
  auditwire_options_set_base_url(o, url, strlen(url));
  auditwire_options_set_ignore_env(o, true);
  auditwire_options_set_queue_capacity(o, (size_t)threads * per_thread + 1000);
  auditwire_options_set_queue_max_bytes(o, (size_t)1 << 30);
  auditwire_options_set_backoff(o, 60000, 1.0, 60000);
  auditwire_options_set_shutdown_timeout_ms(o, 200);
  auditwire_client *c = NULL;
  if (auditwire_client_new(o, &c) != AUDITWIRE_RESULT_OK) {
    fprintf(stderr, "cannot create the client\n");
    return 1;
  }
  struct run runs[16];
  pthread_t t[16];
  size_t total = (size_t)threads * per_thread;
  uint64_t *all = malloc(total * sizeof *all);
  uint64_t start = now_ns();
  for (int i = 0; i < threads; i++) {
    runs[i] = (struct run){c, per_thread, all + (size_t)i * per_thread, 0};
    pthread_create(&t[i], NULL, emit_loop, &runs[i]);
  }
  size_t failures = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    failures += runs[i].failures;
  }
  double wall = (double)(now_ns() - start) / 1e9;
  qsort(all, total, sizeof *all, cmp);
  double sum = 0;
  for (size_t i = 0; i < total; i++) sum += (double)all[i];
  printf("emit_json %d thread(s): median %llu ns, p90 %llu ns, p99 %llu ns, max %llu ns, "
         "mean %.0f ns per event; %.0f events/s in total; %zu refused\n",
         threads, (unsigned long long)all[total / 2], (unsigned long long)all[total * 9 / 10],
         (unsigned long long)all[total * 99 / 100], (unsigned long long)all[total - 1],
         sum / (double)total, (double)total / wall, failures);
  free(all);
  auditwire_client_free(c);
  return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
  int rc = bench(1, n / 10); /* warm-up */
  rc |= bench(1, n);
  rc |= bench(4, n);
  return rc;
}
