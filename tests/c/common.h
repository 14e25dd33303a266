/* Helpers shared by the C tests of auditwire: checks that count failures, and the server. */
#ifndef AUDITWIRE_TEST_COMMON_H
#define AUDITWIRE_TEST_COMMON_H

#include <auditwire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    g_checks++;                                                                     \
    if (!(cond)) {                                                                  \
      g_failures++;                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
    }                                                                               \
  } while (0)

/* Checks a result code; on a mismatch prints both codes and the last error. */
#define CHECK_RC(expr, expected)                                                    \
  do {                                                                              \
    auditwire_result rc_ = (expr);                                                  \
    g_checks++;                                                                     \
    if (rc_ != (auditwire_result)(expected)) {                                      \
      g_failures++;                                                                 \
      fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u (%s); last error: %s\n", \
              __FILE__, __LINE__, #expr, (unsigned)rc_, auditwire_result_str(rc_),  \
              (unsigned)(expected), auditwire_result_str(expected), last_error());  \
    }                                                                               \
  } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, AUDITWIRE_RESULT_OK)

/* The last error of this thread, in a static buffer (per thread). */
static inline const char *last_error(void) {
  static _Thread_local char buf[32768];
  size_t n = 0;
  if (auditwire_last_error_message(buf, sizeof buf, &n) != AUDITWIRE_RESULT_OK) {
    snprintf(buf, sizeof buf, "<last error unreadable>");
  }
  return buf;
}

/* True when the last error contains `needle`. */
static inline int last_error_has(const char *needle) {
  const char *e = last_error();
  if (strstr(e, needle) != NULL) {
    return 1;
  }
  fprintf(stderr, "  last error does not contain \"%s\":\n%s\n", needle, e);
  return 0;
}

#define S(lit) (lit), (sizeof(lit) - 1)

/* The base URL of the test server, from AUDITWIRE_TEST_BASE_URL. */
static inline const char *server_url(void) {
  const char *url = getenv("AUDITWIRE_TEST_BASE_URL");
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr, "AUDITWIRE_TEST_BASE_URL is not set (run tests/c/run.sh)\n");
    exit(2);
  }
  return url;
}

#define TEST_API_KEY "sk_test_c_secret_key"
#define TEST_ORG "org_01EHWNCE74X7JSDV0X3SZ3KJNY"

/* Options for the test server with the test key and a short shutdown timeout. */
static inline auditwire_options *server_options(void) {
  auditwire_options *o = auditwire_options_new();
  const char *url = server_url();
  CHECK(o != NULL);
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, url, strlen(url)));
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_workers(o, 2));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 5000));
  return o;
}

/* A client for the test server; exits when it cannot be made. */
static inline auditwire_client *server_client(void) {
  auditwire_client *c = NULL;
  auditwire_result rc = auditwire_client_new(server_options(), &c);
  if (rc != AUDITWIRE_RESULT_OK || c == NULL) {
    fprintf(stderr, "cannot create a client: %s\n", last_error());
    exit(2);
  }
  return c;
}

#define SIGNED_IN_EVENT                                                              \
  "{\"action\":\"user.signed_in\",\"occurred_at\":\"2026-02-02T16:35:39.317Z\","      \
  "\"version\":1,\"actor\":{\"id\":\"user_01GBNJC3MX9ZZJW1FSTF4C5938\",\"type\":\"user\"," \
  "\"name\":\"Jon Smith\",\"metadata\":{\"role\":\"admin\"}},"                         \
  "\"targets\":[{\"id\":\"team_01GBNJD4MKHVKJGEWK42JNMBGS\",\"type\":\"team\",\"name\":\"Team\"}]," \
  "\"context\":{\"location\":\"123.123.123.123\",\"user_agent\":\"Chrome/104.0.0.0\"}," \
  "\"metadata\":{\"owner\":\"user_01GBTCQ2\"}}"

/* Prints the summary line and returns the exit status. */
static inline int finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

#endif
