/* The client against `auditwire serve`: emit, the blocking calls, the outcome callback,
 * flush, stats, every management call, BUFFER_TOO_SMALL, NULL and UTF-8 checks, use after
 * shutdown, and what shutdown does to events in flight, queued and spooled (against a slow
 * server this test starts itself). */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char BAD_UTF8[] = {'o', 'r', 'g', (char)0xC3, (char)0x28, 0};

#define LEGACY_LOGIN                                                                       \
  "{\"group\":\"" TEST_ORG "\",\"action\":\"user.login\",\"action_type\":\"C\","           \
  "\"actor_name\":\"user@email.com\",\"actor_id\":\"user_1\",\"target_name\":\"user@email.com\"," \
  "\"target_id\":\"user_1\",\"location\":\"1.1.1.1\",\"occurred_at\":\"2019-05-01T01:15:55.619Z\"," \
  "\"metadata\":{}}"

struct outcomes {
  pthread_mutex_t lock;
  int delivered, rejected, other;
  char last_key[256];
  int saw_request_id;
};

static void on_outcome(void *userdata, const auditwire_outcome *o) {
  struct outcomes *s = userdata;
  pthread_mutex_lock(&s->lock);
  if (o->kind == AUDITWIRE_OUTCOME_KIND_DELIVERED) {
    s->delivered++;
    if (o->http_status < 200 || o->http_status > 299 || o->result != AUDITWIRE_RESULT_OK) s->other++;
    if (o->request_id != NULL && o->request_id_len > 0) s->saw_request_id = 1;
  } else if (o->kind == AUDITWIRE_OUTCOME_KIND_REJECTED) {
    s->rejected++;
    if (o->result != AUDITWIRE_RESULT_REJECTED || o->error_message == NULL || o->http_status != 404) s->other++;
  } else {
    s->other++;
  }
  size_t n = o->idempotency_key_len < sizeof s->last_key - 1 ? o->idempotency_key_len : sizeof s->last_key - 1;
  memcpy(s->last_key, o->idempotency_key, n);
  s->last_key[n] = '\0';
  pthread_mutex_unlock(&s->lock);
}

static void test_emit_and_outcomes(void) {
  static struct outcomes seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}, 0};
  auditwire_options *o = server_options();
  CHECK_OK(auditwire_options_set_outcome_callback(o, on_outcome, &seen));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c));
  const char *ev = SIGNED_IN_EVENT;

  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0));
  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), S("c-test-key-1")));
  CHECK_OK(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), S("c-test-key-2"), 10000));
  /* Unknown organization: the server answers 404, a final rejection. */
  CHECK_RC(auditwire_client_create_event_json(c, S("org_unknown"), ev, strlen(ev), NULL, 0, 10000),
           AUDITWIRE_RESULT_REJECTED);
  CHECK(last_error_has("404"));
  /* Invalid events never reach the queue; all problems are reported. */
  CHECK_RC(auditwire_client_emit_json(c, S(""), S("{\"action\":\"\"}"), NULL, 0), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("organization_id: must not be empty"));
  CHECK(last_error_has("event.action: must not be empty"));
  CHECK(last_error_has("event.actor: required"));
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), S("{\"action\":"), NULL, 0), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), S("has space")), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("idempotency_key: "));
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), S("[]"), NULL, 0, 100), AUDITWIRE_RESULT_VALIDATION);
  /* v1 events. */
  CHECK_OK(auditwire_client_emit_legacy_json(c, S(LEGACY_LOGIN)));
  CHECK_OK(auditwire_client_create_legacy_json(c, S(LEGACY_LOGIN), 10000));
  CHECK_RC(auditwire_client_emit_legacy_json(c, S("{\"group\":\"g\"}")), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("action: required"));
  CHECK_RC(auditwire_client_create_legacy_json(c, S("{"), 100), AUDITWIRE_RESULT_INVALID_JSON);
  /* The event builder through the client; the event is consumed on success and failure. */
  auditwire_event *b = auditwire_event_new(S("user.signed_in"));
  CHECK_OK(auditwire_event_set_actor(b, S("user_1"), S("user"), NULL, 0));
  CHECK_OK(auditwire_event_add_target(b, S("team_1"), S("team"), NULL, 0));
  CHECK_OK(auditwire_event_set_context(b, S("1.2.3.4"), NULL, 0));
  CHECK_OK(auditwire_client_create_event(c, S(TEST_ORG), b, NULL, 0, 10000));
  b = auditwire_event_new(S("user.signed_in"));
  CHECK_OK(auditwire_event_set_actor(b, S("user_1"), S("user"), NULL, 0));
  CHECK_OK(auditwire_event_set_context(b, S("1.2.3.4"), NULL, 0));
  /* The builder stamps the time: a key of its own per run, since the server answers a key
   * reused with another body with 409 (runs under ASan and valgrind share one server). */
  char builder_key[64];
  snprintf(builder_key, sizeof builder_key, "c-builder-key-%ld", (long)getpid());
  CHECK_OK(auditwire_client_emit_event(c, S(TEST_ORG), b, builder_key, strlen(builder_key)));
  b = auditwire_event_new(S("user.signed_in"));
  CHECK_RC(auditwire_client_emit_event(c, S(TEST_ORG), b, NULL, 0), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.context: required"));
  b = auditwire_event_new(S("user.signed_in"));
  CHECK_RC(auditwire_client_emit_event(c, S(""), b, NULL, 0), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("organization_id: must not be empty\nevent.actor: required"));
  b = auditwire_event_new(S("user.signed_in"));
  CHECK_RC(auditwire_client_emit_event(NULL, S(TEST_ORG), b, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  b = auditwire_event_new(S("user.signed_in"));
  CHECK_RC(auditwire_client_create_event(c, NULL, 3, b, NULL, 0, 100), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_emit_event(c, S(TEST_ORG), NULL, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_event(c, S(TEST_ORG), NULL, NULL, 0, 100), AUDITWIRE_RESULT_NULL_ARGUMENT);

  uint64_t remaining = 99;
  CHECK_OK(auditwire_client_flush(c, 10000, &remaining));
  CHECK(remaining == 0);
  CHECK_OK(auditwire_client_flush(c, 10000, NULL));
  auditwire_stats st;
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.accepted == 8);
  CHECK(st.delivered == 7);
  CHECK(st.rejected == 1);
  CHECK(st.queued == 0 && st.in_flight == 0);
  CHECK(st.refused_invalid == 8); /* every refusal above that reached a client, parse failures too */
  pthread_mutex_lock(&seen.lock);
  CHECK(seen.delivered == 7);
  CHECK(seen.rejected == 1);
  CHECK(seen.other == 0);
  CHECK(seen.saw_request_id == 1);
  pthread_mutex_unlock(&seen.lock);

  /* Shutdown: later emits are refused with CLOSED; shutting down twice is harmless. */
  CHECK_OK(auditwire_client_shutdown(c, 5000, &remaining));
  CHECK(remaining == 0);
  CHECK_OK(auditwire_client_shutdown(c, 5000, NULL));
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_CLOSED);
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 100), AUDITWIRE_RESULT_CLOSED);
  CHECK_RC(auditwire_client_emit_legacy_json(c, S(LEGACY_LOGIN)), AUDITWIRE_RESULT_CLOSED);
  CHECK(last_error_has("shut down"));
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.refused_closed == 3);
  auditwire_client_free(c);
}

static void test_null_and_utf8(void) {
  auditwire_client *c = server_client();
  const char *ev = SIGNED_IN_EVENT;
  size_t n = 0;
  uint64_t r = 0;
  auditwire_stats st;
  char buf[64];
  CHECK_RC(auditwire_client_emit_json(NULL, S(TEST_ORG), ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_emit_json(c, NULL, 3, ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK(last_error_has("org_id"));
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), NULL, 3, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK(last_error_has("event_json"));
  CHECK_RC(auditwire_client_emit_json(c, BAD_UTF8, 5, ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), BAD_UTF8, 5, NULL, 0), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_create_event_json(NULL, S(TEST_ORG), ev, strlen(ev), NULL, 0, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_event_json(c, NULL, 1, ev, strlen(ev), NULL, 0, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), NULL, 1, NULL, 0, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), BAD_UTF8, 5, NULL, 0, 1), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_emit_legacy_json(NULL, S(LEGACY_LOGIN)), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_emit_legacy_json(c, NULL, 4), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_emit_legacy_json(c, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_create_legacy_json(NULL, S(LEGACY_LOGIN), 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_legacy_json(c, NULL, 4, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_flush(NULL, 1, &r), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_shutdown(NULL, 1, &r), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_stats(NULL, &st), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_stats(c, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  /* Management calls. */
  CHECK_RC(auditwire_client_create_export_json(NULL, S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_export_json(c, NULL, 2, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_export_json(c, S("{}"), NULL, 5, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_export_json(c, S("{}"), buf, sizeof buf, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_export_json(c, BAD_UTF8, 5, buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_create_export_json(c, S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK_RC(auditwire_client_get_export_json(NULL, S("x"), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_get_export_json(c, NULL, 1, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_get_export_json(c, BAD_UTF8, 5, buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_download_export_csv(NULL, S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_download_export_csv(c, NULL, 2, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_download_export_csv(c, S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK_RC(auditwire_client_create_schema_json(NULL, S("a.b"), S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_schema_json(c, NULL, 1, S("{}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_schema_json(c, S("a.b"), NULL, 1, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_create_schema_json(c, S("a.b"), S("{\"targets\":5}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK_RC(auditwire_client_list_actions_json(NULL, NULL, 0, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_list_actions_json(c, S("{\"limit\":\"x\"}"), buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK_RC(auditwire_client_list_actions_json(c, BAD_UTF8, 5, buf, sizeof buf, &n), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_client_list_schemas_json(NULL, S("a.b"), NULL, 0, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_list_schemas_json(c, NULL, 3, NULL, 0, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_get_retention_json(NULL, S(TEST_ORG), buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_get_retention_json(c, NULL, 3, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_set_retention_json(NULL, S(TEST_ORG), 30, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_set_retention_json(c, NULL, 3, 30, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_set_retention_json(c, S(TEST_ORG), 30, buf, sizeof buf, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  auditwire_client_free(c);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Copies the value of "key":"value" from a JSON text (enough for these flat answers). */
static int json_string(const char *json, const char *key, char *out, size_t out_len) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = strstr(json, pat);
  if (p == NULL) return 0;
  p += strlen(pat);
  const char *end = strchr(p, '"');
  if (end == NULL || (size_t)(end - p) >= out_len) return 0;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return 1;
}

static void test_management(void) {
  auditwire_client *c = server_client();
  char buf[65536], id[256], small[8];
  size_t n = 0;
  /* Make sure there is an event to export. */
  const char *ev = SIGNED_IN_EVENT;
  CHECK_OK(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000));
  char req[512];
  int rl = snprintf(req, sizeof req,
                    "{\"organization_id\":\"%s\",\"range_start\":\"2026-01-01T00:00:00Z\","
                    "\"range_end\":\"2026-12-31T00:00:00Z\",\"actions\":[\"user.signed_in\"]}",
                    TEST_ORG);
  /* Too small: BUFFER_TOO_SMALL with the size; the same call again gets the same export. */
  CHECK_RC(auditwire_client_create_export_json(c, req, (size_t)rl, small, sizeof small, &n),
           AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > sizeof small);
  CHECK(last_error_has("needed"));
  size_t needed = n;
  CHECK_OK(auditwire_client_create_export_json(c, req, (size_t)rl, buf, sizeof buf, &n));
  CHECK(n == needed && strlen(buf) + 1 == n);
  CHECK(strstr(buf, "\"object\":\"audit_log_export\"") != NULL);
  CHECK(json_string(buf, "id", id, sizeof id));
  /* Poll until ready, then download the CSV. */
  int ready = 0;
  for (int i = 0; i < 100 && !ready; i++) {
    CHECK_OK(auditwire_client_get_export_json(c, id, strlen(id), buf, sizeof buf, &n));
    ready = strstr(buf, "\"state\":\"ready\"") != NULL;
    if (!ready) sleep_ms(50);
  }
  CHECK(ready);
  char export_json[4096];
  memcpy(export_json, buf, n);
  /* The CSV holds every event of the organization so far: ask for the size, then read. */
  size_t export_len = n - 1;
  CHECK_RC(auditwire_client_download_export_csv(c, export_json, export_len, NULL, 0, &n),
           AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  char *csv = calloc(1, n + 1);
  CHECK(csv != NULL);
  CHECK_OK(auditwire_client_download_export_csv(c, export_json, export_len, csv, n, &n));
  CHECK(strstr(csv, "user.signed_in") != NULL);
  free(csv);
  CHECK_RC(auditwire_client_get_export_json(c, S("audit_log_export_missing"), buf, sizeof buf, &n),
           AUDITWIRE_RESULT_API_ERROR);
  CHECK(last_error_has("404"));
  /* An id that would address another resource is refused before any request. */
  CHECK_RC(auditwire_client_get_export_json(c, S(".."), buf, sizeof buf, &n),
           AUDITWIRE_RESULT_INVALID_ARGUMENT);
  CHECK(last_error_has("export_id"));

  /* Schemas and actions. */
  const char *schema = "{\"targets\":[{\"type\":\"invoice\"}],\"metadata\":{\"type\":\"object\"}}";
  CHECK_OK(auditwire_client_create_schema_json(c, S("invoice.paid"), schema, strlen(schema), buf, sizeof buf, &n));
  CHECK(strstr(buf, "\"object\":\"audit_log_schema\"") != NULL);
  CHECK_OK(auditwire_client_list_actions_json(c, NULL, 0, buf, sizeof buf, &n));
  CHECK(strstr(buf, "invoice.paid") != NULL);
  CHECK_OK(auditwire_client_list_actions_json(c, S("{\"limit\":5,\"order\":\"desc\"}"), buf, sizeof buf, &n));
  CHECK(strstr(buf, "\"object\":\"list\"") != NULL);
  CHECK_OK(auditwire_client_list_schemas_json(c, S("invoice.paid"), NULL, 0, buf, sizeof buf, &n));
  CHECK(strstr(buf, "invoice") != NULL);
  CHECK_RC(auditwire_client_list_schemas_json(c, S("invoice.paid"), NULL, 0, small, sizeof small, &n),
           AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(auditwire_client_list_schemas_json(c, S("invoice.paid"), NULL, 0, NULL, 0, &n),
           AUDITWIRE_RESULT_BUFFER_TOO_SMALL);

  /* Retention. */
  CHECK_OK(auditwire_client_set_retention_json(c, S(TEST_ORG), 365, buf, sizeof buf, &n));
  CHECK(strstr(buf, "365") != NULL);
  CHECK_OK(auditwire_client_get_retention_json(c, S(TEST_ORG), buf, sizeof buf, &n));
  CHECK(strcmp(buf, "{\"retention_period_in_days\":365}") == 0);
  CHECK_RC(auditwire_client_set_retention_json(c, S(TEST_ORG), 31, buf, sizeof buf, &n), AUDITWIRE_RESULT_API_ERROR);
  auditwire_client_free(c);

  /* A wrong API key: 401, and the key is not in the text. */
  auditwire_options *o = server_options();
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_wrong_key_987")));
  CHECK_OK(auditwire_client_new(o, &c));
  CHECK_RC(auditwire_client_get_retention_json(c, S(TEST_ORG), buf, sizeof buf, &n), AUDITWIRE_RESULT_API_ERROR);
  CHECK(last_error_has("401"));
  CHECK(strstr(last_error(), "sk_wrong_key_987") == NULL);
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000), AUDITWIRE_RESULT_REJECTED);
  CHECK(strstr(last_error(), "sk_wrong_key_987") == NULL);
  auditwire_client_free(c);

  /* Nobody listening: a connection error, and an event that cannot be delivered in time. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_max_retries(o, 1));
  CHECK_OK(auditwire_options_set_backoff(o, 1, 1.0, 5));
  CHECK_OK(auditwire_options_set_timeout_ms(o, 2000));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 200));
  CHECK_OK(auditwire_client_new(o, &c));
  CHECK_RC(auditwire_client_get_retention_json(c, S(TEST_ORG), buf, sizeof buf, &n), AUDITWIRE_RESULT_CONNECTION_ERROR);
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 10000), AUDITWIRE_RESULT_EXPIRED);
  auditwire_client_free(c);

  /* A slow deadline: TIMEOUT from create and flush, the count from flush and shutdown. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_backoff(o, 60000, 1.0, 60000));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 100));
  CHECK_OK(auditwire_client_new(o, &c));
  CHECK_RC(auditwire_client_create_event_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0, 50), AUDITWIRE_RESULT_TIMEOUT);
  uint64_t remaining = 0;
  CHECK_RC(auditwire_client_flush(c, 50, &remaining), AUDITWIRE_RESULT_TIMEOUT);
  CHECK(remaining == 1);
  remaining = 0;
  CHECK_RC(auditwire_client_shutdown(c, 50, &remaining), AUDITWIRE_RESULT_TIMEOUT);
  CHECK(remaining == 1);
  auditwire_stats st;
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.lost == 1 && st.in_doubt == 0 && st.spooled == 0);
  auditwire_client_free(c);

  /* A full queue. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_backoff(o, 60000, 1.0, 60000));
  CHECK_OK(auditwire_options_set_queue_capacity(o, 2));
  CHECK_OK(auditwire_options_set_workers(o, 1));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 100));
  CHECK_OK(auditwire_client_new(o, &c));
  int full = 0;
  for (int i = 0; i < 10; i++) {
    if (auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0) == AUDITWIRE_RESULT_QUEUE_FULL) full++;
  }
  CHECK(full >= 7);
  CHECK(last_error_has("queue full"));
  auditwire_client_free(c);
}

/* A rejected event with a spool becomes a dead letter; retry moves it back to pending. */
static void test_dead_letters(void) {
  char dir[] = "/tmp/auditwire-c-dead-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  auditwire_options *o = server_options();
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c));
  const char *ev = SIGNED_IN_EVENT;
  CHECK_RC(auditwire_client_create_event_json(c, S("org_unknown"), ev, strlen(ev), NULL, 0, 10000),
           AUDITWIRE_RESULT_REJECTED);
  auditwire_client_free(c);
  char json[16384];
  size_t n = 0;
  CHECK_OK(auditwire_spool_dead_letters_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strstr(json, "\"organization_id\":\"org_unknown\"") != NULL);
  CHECK(strstr(json, "\"status\":404") != NULL);
  uint64_t moved = 0;
  CHECK_OK(auditwire_spool_retry(dir, strlen(dir), &moved));
  CHECK(moved == 1);
  CHECK_OK(auditwire_spool_status_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strstr(json, "\"pending\":1") != NULL);
  CHECK(strstr(json, "\"dead_letters\":0") != NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

/* A spool that cannot be used fails auditwire_client_new, naming the file (a corrupt run, a
 * NUL byte in the path), instead of a client whose every emit fails. */
static void test_unusable_spool_fails_at_new(void) {
  char dir[] = "/tmp/auditwire-c-badspool-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char bad[128];
  snprintf(bad, sizeof bad, "%s/run-0000000000000000.db", dir);
  FILE *f = fopen(bad, "w");
  CHECK(f != NULL);
  fputs("this is not a SQLite database, just garbage bytes", f);
  fclose(f);
  auditwire_options *o = server_options();
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  auditwire_client *c = NULL;
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_SPOOL_ERROR);
  CHECK(c == NULL);
  CHECK(last_error_has("run-0000000000000000.db"));
  static const char nul_path[] = {'/', 't', 'm', 'p', '/', 'a', 0, 'b'};
  o = server_options();
  auditwire_result rc = auditwire_options_set_spool_dir(o, nul_path, sizeof nul_path);
  if (rc == AUDITWIRE_RESULT_OK) {
    CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_SPOOL_ERROR);
    CHECK(c == NULL);
    CHECK(last_error_has("/tmp/a"));
  } else {
    auditwire_options_free(o);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

/* Counts of outcome kinds, kept on the heap so that a callback after free is caught. */
struct shutdown_seen {
  pthread_mutex_t lock;
  int calls, in_doubt, lost, spooled, other;
  int key_ok;     /* IN_DOUBT callbacks whose key and message name one of ours */
};

/* True when the (ptr, len) text contains the NUL-terminated `needle`. */
static int has_text(const char *text, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++) {
    if (memcmp(text + i, needle, n) == 0) return 1;
  }
  return 0;
}

static void count_shutdown_outcome(void *userdata, const auditwire_outcome *o) {
  struct shutdown_seen *s = userdata;
  pthread_mutex_lock(&s->lock);
  s->calls++;
  if (o->kind == AUDITWIRE_OUTCOME_KIND_IN_DOUBT && o->result == AUDITWIRE_RESULT_IN_DOUBT) {
    s->in_doubt++;
    char key[64] = {0};
    if (o->idempotency_key_len < sizeof key) memcpy(key, o->idempotency_key, o->idempotency_key_len);
    if (strncmp(key, "c-in-doubt-", 11) == 0 && o->error_message != NULL &&
        has_text(o->error_message, o->error_message_len, key)) {
      s->key_ok++;
    }
  } else if (o->kind == AUDITWIRE_OUTCOME_KIND_LOST && o->result == AUDITWIRE_RESULT_LOST) {
    s->lost++;
  } else if (o->kind == AUDITWIRE_OUTCOME_KIND_SPOOLED && o->result == AUDITWIRE_RESULT_SPOOLED) {
    s->spooled++;
  } else {
    s->other++;
  }
  pthread_mutex_unlock(&s->lock);
}

static struct shutdown_seen *new_seen(void) {
  struct shutdown_seen *s = calloc(1, sizeof *s);
  CHECK(s != NULL);
  pthread_mutex_init(&s->lock, NULL);
  return s;
}

static void free_seen(struct shutdown_seen *s) {
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* A server of our own: `auditwire serve --latency-ms MS` on a free loopback port. The
 * binary is $AUDITWIRE_BIN, else target/debug/auditwire (tests/c/run.sh runs from the root). */
struct slow_server {
  pid_t pid;
  FILE *out;
  char url[128];
};

static int start_slow_server(struct slow_server *srv, const char *latency_ms) {
  const char *bin = getenv("AUDITWIRE_BIN");
  if (bin == NULL || bin[0] == '\0') bin = "target/debug/auditwire";
  int fds[2];
  if (pipe(fds) != 0) return 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  char *argv[] = {(char *)bin, "serve", "--addr", "127.0.0.1:0", "--api-key", TEST_API_KEY,
                  "--latency-ms", (char *)latency_ms, NULL};
  int rc = posix_spawn(&srv->pid, bin, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    fprintf(stderr, "cannot start %s: %s\n", bin, strerror(rc));
    close(fds[0]);
    return 0;
  }
  srv->out = fdopen(fds[0], "r");
  char line[256];
  if (srv->out == NULL || fgets(line, sizeof line, srv->out) == NULL ||
      strncmp(line, "listening on ", 13) != 0) {
    fprintf(stderr, "%s serve did not say where it listens\n", bin);
    return 0;
  }
  line[strcspn(line, "\r\n")] = '\0';
  snprintf(srv->url, sizeof srv->url, "%s", line + 13);
  return 1;
}

static void stop_slow_server(struct slow_server *srv) {
  kill(srv->pid, SIGTERM);
  waitpid(srv->pid, NULL, 0);
  if (srv->out != NULL) fclose(srv->out);
}

/* A client of the slow server with 4 workers and a 200 ms shutdown timeout. */
static auditwire_client *slow_client(const struct slow_server *srv, struct shutdown_seen *seen) {
  auditwire_options *o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, srv->url, strlen(srv->url)));
  CHECK_OK(auditwire_options_set_workers(o, 4));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 200));
  CHECK_OK(auditwire_options_set_outcome_callback(o, count_shutdown_outcome, seen));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c));
  return c;
}

/* Emits `n` events keyed c-in-doubt-<tag>-<i>, then waits (up to 2 s) until `in_flight` are sent. */
static void emit_until_in_flight(auditwire_client *c, const char *tag, int n, uint64_t in_flight) {
  const char *ev = SIGNED_IN_EVENT;
  for (int i = 0; i < n; i++) {
    char key[64];
    int kl = snprintf(key, sizeof key, "c-in-doubt-%s-%d", tag, i);
    CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), key, (size_t)kl));
  }
  auditwire_stats st = {0};
  for (int i = 0; i < 200; i++) {
    CHECK_OK(auditwire_client_stats(c, &st));
    if (st.in_flight >= in_flight) break;
    sleep_ms(10);
  }
  CHECK(st.in_flight == in_flight);
  sleep_ms(300);
}

struct blocking_create {
  auditwire_client *c;
  auditwire_result rc;
  int names_key;
};

static void *create_in_doubt(void *arg) {
  struct blocking_create *b = arg;
  const char *ev = SIGNED_IN_EVENT;
  b->rc = auditwire_client_create_event_json(b->c, S(TEST_ORG), ev, strlen(ev), S("c-in-doubt-create"), 30000);
  b->names_key = strstr(last_error(), "c-in-doubt-create") != NULL;
  return NULL;
}

/* Issue 20: events in flight when the client is freed end IN_DOUBT before free returns, and no
 * callback runs after it (userdata is freed at once: a late callback is a use after free). */
static void test_shutdown_in_flight(void) {
  struct slow_server srv = {0};
  if (!start_slow_server(&srv, "1500")) {
    CHECK(0 && "slow server started");
    return;
  }

  /* free: 4 events in flight, each ends IN_DOUBT with its key, all before free returns. */
  struct shutdown_seen *seen = new_seen();
  auditwire_client *c = slow_client(&srv, seen);
  emit_until_in_flight(c, "free", 4, 4);
  auditwire_client_free(c);
  pthread_mutex_lock(&seen->lock);
  struct shutdown_seen at_free = *seen;
  pthread_mutex_unlock(&seen->lock);
  free_seen(seen);
  sleep_ms(1600); /* past the server's answers: a callback now would touch freed memory */
  CHECK(at_free.calls == 4);
  CHECK(at_free.in_doubt == 4);
  CHECK(at_free.key_ok == 4);
  CHECK(at_free.other == 0 && at_free.lost == 0 && at_free.spooled == 0);

  /* shutdown_report: 3 emitted + 1 blocking create in flight, 1 more queued behind them. */
  seen = new_seen();
  c = slow_client(&srv, seen);
  struct blocking_create b = {c, AUDITWIRE_RESULT_OK, 0};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, create_in_doubt, &b) == 0);
  emit_until_in_flight(c, "report", 3, 4);
  const char *ev = SIGNED_IN_EVENT;
  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), S("c-queued-lost")));
  auditwire_shutdown_report r = {0};
  CHECK_RC(auditwire_client_shutdown_report(c, 200, &r), AUDITWIRE_RESULT_TIMEOUT);
  CHECK(last_error_has("5 event(s) not delivered at exit: 1 lost, 0 spooled, 4 in doubt"));
  CHECK(r.remaining == 5 && r.in_doubt == 4 && r.lost == 1 && r.spooled == 0);
  pthread_join(t, NULL);
  CHECK(b.rc == AUDITWIRE_RESULT_IN_DOUBT);
  CHECK(b.names_key);
  auditwire_stats st;
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.in_doubt == 4 && st.lost == 1 && st.spooled == 0 && st.in_flight == 0 && st.queued == 0);
  pthread_mutex_lock(&seen->lock);
  CHECK(seen->calls == 5 && seen->in_doubt == 4 && seen->lost == 1 && seen->other == 0);
  CHECK(seen->key_ok == 4);
  pthread_mutex_unlock(&seen->lock);
  auditwire_client_free(c);
  free_seen(seen);

  /* With a spool, an event in doubt stays on disk for the next run: the report is OK. */
  char dir[] = "/tmp/auditwire-c-in-doubt-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  seen = new_seen();
  auditwire_options *o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, srv.url, strlen(srv.url)));
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  CHECK_OK(auditwire_options_set_outcome_callback(o, count_shutdown_outcome, seen));
  CHECK_OK(auditwire_client_new(o, &c));
  emit_until_in_flight(c, "spool", 1, 1);
  CHECK_OK(auditwire_client_shutdown_report(c, 100, &r));
  CHECK(r.remaining == 1 && r.in_doubt == 1 && r.lost == 0 && r.spooled == 0);
  CHECK(seen->calls == 1 && seen->in_doubt == 1 && seen->key_ok == 1);
  auditwire_client_free(c);
  free_seen(seen);
  char json[16384];
  size_t n = 0;
  CHECK_OK(auditwire_spool_status_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strstr(json, "\"pending\":1") != NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  stop_slow_server(&srv);
}

/* Events still queued at shutdown with a spool: one SPOOLED callback each; they stay on disk. */
static void test_shutdown_spooled(void) {
  char dir[] = "/tmp/auditwire-c-spooled-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  struct shutdown_seen *seen = new_seen();
  auditwire_options *o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S(TEST_API_KEY)));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_backoff(o, 60000, 1.0, 60000));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 100));
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  CHECK_OK(auditwire_options_set_outcome_callback(o, count_shutdown_outcome, seen));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c));
  const char *ev = SIGNED_IN_EVENT;
  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0));
  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0));
  /* Both first attempts fail (nothing listens): then they wait for a retry, not in flight. */
  auditwire_stats st = {0};
  for (int i = 0; i < 500 && !(st.retried == 2 && st.in_flight == 0); i++) {
    sleep_ms(10);
    CHECK_OK(auditwire_client_stats(c, &st));
  }
  CHECK(st.retried == 2 && st.in_flight == 0);
  auditwire_shutdown_report r = {0};
  CHECK_OK(auditwire_client_shutdown_report(c, 100, &r));
  CHECK(r.remaining == 2 && r.spooled == 2 && r.lost == 0 && r.in_doubt == 0);
  auditwire_client_free(c);
  CHECK(seen->calls == 2 && seen->spooled == 2);
  free_seen(seen);
  char json[16384];
  size_t n = 0;
  CHECK_OK(auditwire_spool_status_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strstr(json, "\"pending\":2") != NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  test_shutdown_in_flight();
  test_shutdown_spooled();
  test_dead_letters();
  test_unusable_spool_fails_at_new();
  test_emit_and_outcomes();
  test_null_and_utf8();
  test_management();
  return finish("test_client");
}
