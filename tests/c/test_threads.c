/* Concurrency: emits from 8 pthreads sharing one client, the per-thread last error, and a
 * fork whose child keeps using the client. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define PER_THREAD 200

struct worker {
  auditwire_client *client;
  int index;
  int ok;
  int own_error_kept;
};

static void *emit_many(void *arg) {
  struct worker *w = arg;
  const char *ev = SIGNED_IN_EVENT;
  char key[64];
  for (int i = 0; i < PER_THREAD; i++) {
    int n = snprintf(key, sizeof key, "c-thread-%d-%d", w->index, i);
    if (auditwire_client_emit_json(w->client, S(TEST_ORG), ev, strlen(ev), key, (size_t)n) ==
        AUDITWIRE_RESULT_OK) {
      w->ok++;
    }
    /* Each thread fails differently; each must read back only its own failure. */
    char org[32];
    int on = snprintf(org, sizeof org, "thread-%d", w->index);
    auditwire_client_emit_json(w->client, org, (size_t)on, S("{\"action\":1}"), NULL, 0);
  }
  char expected[64];
  snprintf(expected, sizeof expected, "event.action: ");
  w->own_error_kept = strstr(last_error(), expected) != NULL;
  return NULL;
}

static void test_threads(void) {
  auditwire_client *c = server_client();
  pthread_t t[THREADS];
  struct worker w[THREADS];
  /* The main thread's last error must survive the workers' failures. */
  CHECK_RC(auditwire_validate_json(S("main-thread-error")), AUDITWIRE_RESULT_INVALID_JSON);
  char before[4096];
  snprintf(before, sizeof before, "%s", last_error());
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){c, i, 0, 0};
    CHECK(pthread_create(&t[i], NULL, emit_many, &w[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(w[i].ok == PER_THREAD);
    CHECK(w[i].own_error_kept);
  }
  CHECK(strcmp(before, last_error()) == 0);
  uint64_t remaining = 1;
  CHECK_OK(auditwire_client_flush(c, 30000, &remaining));
  CHECK(remaining == 0);
  auditwire_stats st;
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.accepted == THREADS * PER_THREAD);
  CHECK(st.delivered == THREADS * PER_THREAD);
  auditwire_client_free(c);
}

static void test_fork(void) {
  auditwire_client *c = server_client();
  const char *ev = SIGNED_IN_EVENT;
  CHECK_OK(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000));
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    /* The child: fresh workers on the first call; emit, flush, report through the status. */
    int status = 0;
    auditwire_result rc = auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0);
    if (rc != AUDITWIRE_RESULT_OK) {
      fprintf(stderr, "  fork child: emit returned %u: %s\n", (unsigned)rc, last_error());
      status |= 1;
    }
    if (auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000) != AUDITWIRE_RESULT_OK) status |= 2;
    uint64_t remaining = 1;
    if (auditwire_client_flush(c, 10000, &remaining) != AUDITWIRE_RESULT_OK || remaining != 0) status |= 4;
    auditwire_stats st;
    if (auditwire_client_stats(c, &st) != AUDITWIRE_RESULT_OK || st.delivered < 2) status |= 8;
    uint64_t left = 1;
    if (auditwire_client_shutdown(c, 5000, &left) != AUDITWIRE_RESULT_OK || left != 0) status |= 16;
    _exit(status);
  }
  int status = -1;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    fprintf(stderr, "  fork child failed with status bits %d\n", WEXITSTATUS(status));
  }
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* The parent keeps working with its own workers. */
  CHECK_OK(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000));
  auditwire_stats st;
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.delivered == 2);
  auditwire_client_free(c);
}

int main(void) {
  test_threads();
  test_fork();
  return finish("test_threads");
}
