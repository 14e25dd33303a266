/* The C API without a server: version, result codes, options, client creation errors,
 * validation of every rule, the last error, the event builder, NULL and UTF-8 checks. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <time.h>

static const char BAD_UTF8[] = {'o', 'r', 'g', (char)0xC3, (char)0x28, 0};

static void test_version(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", AUDITWIRE_VERSION_MAJOR,
           AUDITWIRE_VERSION_MINOR, AUDITWIRE_VERSION_PATCH);
  CHECK(auditwire_version() != NULL);
  CHECK(strcmp(auditwire_version(), expected) == 0);
}

static void test_result_codes(void) {
  CHECK(AUDITWIRE_RESULT_OK == 0);
  CHECK(sizeof(auditwire_result) == sizeof(uint32_t));
  CHECK(AUDITWIRE_RESULT_NULL_ARGUMENT == 1000);
  CHECK(AUDITWIRE_RESULT_INVALID_JSON == 2000);
  CHECK(AUDITWIRE_RESULT_QUEUE_FULL == 3000);
  CHECK(AUDITWIRE_RESULT_REJECTED == 4000);
  CHECK(AUDITWIRE_RESULT_PANIC == 9000);
  CHECK(strcmp(auditwire_result_str(AUDITWIRE_RESULT_OK), "ok") == 0);
  CHECK(strstr(auditwire_result_str(AUDITWIRE_RESULT_BUFFER_TOO_SMALL), "buffer") != NULL);
  CHECK(strcmp(auditwire_result_str(12345), "unknown result code") == 0);
}

static void test_last_error(void) {
  char buf[8];
  size_t n = 0;
  /* A failure sets it; reading does not clear it. */
  CHECK_RC(auditwire_validate_json(NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK(last_error_has("body_json"));
  CHECK(last_error_has("NULL"));
  /* Size query with a NULL buffer of length 0. */
  CHECK_RC(auditwire_last_error_message(NULL, 0, &n), AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == strlen(last_error()) + 1);
  size_t needed = n;
  /* A small buffer: BUFFER_TOO_SMALL, the size needed, and the message is unchanged. */
  CHECK_RC(auditwire_last_error_message(buf, sizeof buf, &n), AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == needed);
  CHECK(last_error_has("body_json"));
  /* An exact buffer works. */
  char *exact = malloc(needed);
  CHECK_OK(auditwire_last_error_message(exact, needed, &n));
  CHECK(n == needed && exact[needed - 1] == '\0');
  CHECK(strcmp(exact, last_error()) == 0);
  free(exact);
  /* NULL buffer with a length, NULL out_len. */
  CHECK_RC(auditwire_last_error_message(NULL, 10, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_last_error_message(buf, sizeof buf, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK(last_error_has("body_json")); /* still the earlier failure */
}

static void test_options(void) {
  auditwire_options *o = auditwire_options_new();
  CHECK(o != NULL);
  auditwire_options_free(NULL);
  /* NULL options for every setter. */
  CHECK_RC(auditwire_options_set_api_key(NULL, S("k")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_base_url(NULL, S("https://x")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_spool_dir(NULL, S("/tmp")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_ca_file(NULL, S("/tmp/ca.pem")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_workers(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_timeout_ms(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_max_retries(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_retry_window_ms(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_backoff(NULL, 1, 2.0, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_retry_after_cap_ms(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_queue_capacity(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_queue_max_bytes(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_overflow(NULL, 0, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_shutdown_timeout_ms(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_user_agent(NULL, S("x")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_legacy_endpoint(NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_allow_insecure_http(NULL, true), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_ignore_env(NULL, true), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_outcome_callback(NULL, NULL, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_spool_max_bytes(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_durability(NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_durability(o, 5), AUDITWIRE_RESULT_INVALID_ARGUMENT);
  /* NULL strings and invalid UTF-8. */
  CHECK_RC(auditwire_options_set_api_key(o, NULL, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_base_url(o, NULL, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_spool_dir(o, NULL, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_ca_file(o, NULL, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_user_agent(o, NULL, 3), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_options_set_api_key(o, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK(last_error_has("not valid UTF-8 (at byte 3)"));
  CHECK_RC(auditwire_options_set_base_url(o, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_options_set_spool_dir(o, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_options_set_ca_file(o, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_options_set_user_agent(o, BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  /* Enum values out of range. */
  CHECK_RC(auditwire_options_set_overflow(o, 7, 0), AUDITWIRE_RESULT_INVALID_ARGUMENT);
  CHECK_RC(auditwire_options_set_legacy_endpoint(o, 9), AUDITWIRE_RESULT_INVALID_ARGUMENT);
  /* Every setter accepts a valid value. */
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_base_url(o, S("https://api.workos-test.com")));
  CHECK_OK(auditwire_options_set_workers(o, 3));
  CHECK_OK(auditwire_options_set_timeout_ms(o, 2000));
  CHECK_OK(auditwire_options_set_max_retries(o, 3));
  CHECK_OK(auditwire_options_set_retry_window_ms(o, 60000));
  CHECK_OK(auditwire_options_set_backoff(o, 10, 2.0, 100));
  CHECK_OK(auditwire_options_set_retry_after_cap_ms(o, 1000));
  CHECK_OK(auditwire_options_set_queue_capacity(o, 100));
  CHECK_OK(auditwire_options_set_queue_max_bytes(o, 1 << 20));
  CHECK_OK(auditwire_options_set_overflow(o, AUDITWIRE_OVERFLOW_BLOCK, 100));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 100));
  CHECK_OK(auditwire_options_set_user_agent(o, S("test-c/1.0")));
  CHECK_OK(auditwire_options_set_legacy_endpoint(o, AUDITWIRE_LEGACY_ENDPOINT_V1));
  CHECK_OK(auditwire_options_set_allow_insecure_http(o, false));
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_outcome_callback(o, NULL, NULL));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c)); /* no network I/O */
  CHECK(c != NULL);
  auditwire_client_free(c);
}

/* Client creation failures: options always consumed (ASan/valgrind check no leak). */
static void test_client_new_errors(void) {
  auditwire_client *c = NULL;
  CHECK_RC(auditwire_client_new(NULL, &c), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_new(auditwire_options_new(), NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK(c == NULL);

  auditwire_options *o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
  CHECK(last_error_has("WORKOS_API_KEY"));
  CHECK(c == NULL);

  const char *bad[][2] = {
      {"not a url", "not a valid"},
      {"http://example.com", "loopback"},
      {"ftp://example.com", "scheme"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o = auditwire_options_new();
    CHECK_OK(auditwire_options_set_ignore_env(o, true));
    CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
    CHECK_OK(auditwire_options_set_base_url(o, bad[i][0], strlen(bad[i][0])));
    CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
    CHECK(last_error_has(bad[i][1]));
    CHECK(strstr(last_error(), "sk_test_secret_123") == NULL);
  }
  /* An out-of-range setting and a key with a space: the key never shows in the text. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk secret with space")));
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
  CHECK(last_error_has("api_key"));
  CHECK(strstr(last_error(), "secret") == NULL);
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_workers(o, 0));
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
  CHECK(last_error_has("workers"));
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_backoff(o, 100, 0.5, 1000));
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
  CHECK(last_error_has("backoff"));
  auditwire_client_free(NULL);
}

/* One document per rule: the code and the `PATH: message` text. */
static void test_validation_paths(void) {
  struct {
    const char *json;
    auditwire_result code;
    const char *needle;
  } cases[] = {
      {"{", AUDITWIRE_RESULT_INVALID_JSON, "invalid JSON"},
      {"[1,2]", AUDITWIRE_RESULT_VALIDATION, "must be an object"},
      {"{\"organization_id\":\"\",\"event\":" SIGNED_IN_EVENT "}", AUDITWIRE_RESULT_VALIDATION,
       "organization_id: must not be empty"},
      {"{\"organization_id\":\"o\"}", AUDITWIRE_RESULT_VALIDATION, "event: required"},
      {"{\"organization_id\":5,\"event\":" SIGNED_IN_EVENT "}", AUDITWIRE_RESULT_VALIDATION,
       "organization_id: "},
      {"{\"organization_id\":\"o\",\"organization_id\":\"p\",\"event\":" SIGNED_IN_EVENT "}",
       AUDITWIRE_RESULT_VALIDATION, "organization_id: "},
      {"{\"organization_id\":\"o\",\"extra\":1,\"event\":" SIGNED_IN_EVENT "}",
       AUDITWIRE_RESULT_VALIDATION, "extra: unknown field"},
      {"{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"ocurred_at\":\"2026-02-02T16:35:39Z\"}}",
       AUDITWIRE_RESULT_VALIDATION, "event.ocurred_at: unknown field (did you mean `occurred_at`?)"},
      {"{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"occurred_at\":\"yesterday\","
       "\"actor\":{\"id\":\"u\",\"type\":\"user\"},\"targets\":[],\"context\":{\"location\":\"l\"}}}",
       AUDITWIRE_RESULT_VALIDATION, "event.occurred_at: "},
      {"{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"occurred_at\":\"2026-02-02T16:35:39Z\","
       "\"version\":0,\"actor\":{\"id\":\"u\",\"type\":\"user\"},\"targets\":[],\"context\":{\"location\":\"l\"}}}",
       AUDITWIRE_RESULT_VALIDATION, "event.version: "},
      {"{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"occurred_at\":\"2026-02-02T16:35:39Z\","
       "\"actor\":{\"id\":\"u\",\"type\":\"user\"},\"targets\":[{\"id\":\"t\"}],\"context\":{\"location\":\"l\"}}}",
       AUDITWIRE_RESULT_VALIDATION, "event.targets[0].type: required"},
      {"{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"occurred_at\":\"2026-02-02T16:35:39Z\","
       "\"actor\":{\"id\":\"u\",\"type\":\"user\"},\"targets\":[],\"context\":{\"location\":\"l\"},"
       "\"metadata\":{\"a b\":1,\"n\":null}}}",
       AUDITWIRE_RESULT_VALIDATION, "event.metadata[\"a b\"]: key may contain"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    auditwire_result rc = auditwire_validate_json(cases[i].json, strlen(cases[i].json));
    CHECK(rc == cases[i].code);
    if (rc != cases[i].code) {
      fprintf(stderr, "  case %zu: got %u: %s\n", i, (unsigned)rc, last_error());
    }
    CHECK(last_error_has(cases[i].needle));
  }
  /* Every problem at once, one per line, in order. */
  const char *many =
      "{\"organization_id\":\"org_1\",\"event\":{\"action\":\"user.signed_in\",\"ocurred_at\":\"2026-02-02T16:35:39Z\"}}";
  CHECK_RC(auditwire_validate_json(many, strlen(many)), AUDITWIRE_RESULT_VALIDATION);
  CHECK(strcmp(last_error(),
               "event.ocurred_at: unknown field (did you mean `occurred_at`?)\n"
               "event.occurred_at: required\n"
               "event.actor: required\n"
               "event.targets: required\n"
               "event.context: required") == 0);
  /* Metadata limits: 51 keys, a 501-character value, a 41-character key. */
  char *big = malloc(8192);
  int n = sprintf(big, "{\"organization_id\":\"o\",\"event\":{\"action\":\"a\",\"occurred_at\":"
                       "\"2026-02-02T16:35:39Z\",\"actor\":{\"id\":\"u\",\"type\":\"user\"},"
                       "\"targets\":[],\"context\":{\"location\":\"l\"},\"metadata\":{");
  int head = n;
  for (int i = 0; i < 51; i++) n += sprintf(big + n, "\"k%d\":%d,", i, i);
  n += sprintf(big + n, "\"last\":1}}}");
  CHECK_RC(auditwire_validate_json(big, (size_t)n), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.metadata: more than 50 keys (has 52)"));
  n = head;
  n += sprintf(big + n, "\"body\":\"");
  for (int i = 0; i < 501; i++) big[n++] = 'x';
  n += sprintf(big + n, "\",\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":true}}}");
  CHECK_RC(auditwire_validate_json(big, (size_t)n), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.metadata.body: string longer than 500 characters (has 501)"));
  CHECK(last_error_has("key longer than 40 characters (has 41)"));
  free(big);
  /* Too deep and too large documents. */
  char deep[512];
  n = sprintf(deep, "{\"organization_id\":\"o\",\"event\":");
  for (int i = 0; i < 40; i++) deep[n++] = '[';
  for (int i = 0; i < 40; i++) deep[n++] = ']';
  deep[n++] = '}';
  CHECK_RC(auditwire_validate_json(deep, (size_t)n), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK(last_error_has("nested deeper than"));
  size_t huge_len = (1u << 20) + 10;
  char *huge = malloc(huge_len);
  memset(huge, ' ', huge_len);
  huge[0] = '{';
  huge[huge_len - 1] = '}';
  CHECK_RC(auditwire_validate_json(huge, huge_len), AUDITWIRE_RESULT_INVALID_JSON);
  CHECK(last_error_has("the limit is"));
  free(huge);
  /* NULL and invalid UTF-8. */
  CHECK_RC(auditwire_validate_json(NULL, 5), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_validate_json(BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  /* A valid body. */
  const char *ok = "{\"organization_id\":\"" TEST_ORG "\",\"event\":" SIGNED_IN_EVENT "}";
  CHECK_OK(auditwire_validate_json(ok, strlen(ok)));

  /* v1 events: action form, action_type values, flat paths. */
  const char *legacy_bad =
      "{\"group\":\"\",\"action\":\"login\",\"action_type\":\"X\",\"actor_name\":\"a\",\"actor_id\":\"u\","
      "\"target_name\":\"t\",\"target_id\":\"t1\",\"location\":\"1.1.1.1\",\"occurred_at\":\"2019-05-01T01:15:55.619Z\"}";
  CHECK_RC(auditwire_validate_legacy_json(legacy_bad, strlen(legacy_bad)), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("group: must not be empty"));
  CHECK(last_error_has("action: "));
  CHECK(last_error_has("action_type: "));
  const char *legacy_ok =
      "{\"group\":\"org_1\",\"action\":\"user.login\",\"action_type\":\"C\",\"actor_name\":\"a\",\"actor_id\":\"u\","
      "\"target_name\":\"t\",\"target_id\":\"t1\",\"location\":\"1.1.1.1\",\"occurred_at\":\"2019-05-01T01:15:55.619Z\"}";
  CHECK_OK(auditwire_validate_legacy_json(legacy_ok, strlen(legacy_ok)));
  CHECK_RC(auditwire_validate_legacy_json(NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_validate_legacy_json(BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
}

static void test_event_builder(void) {
  char buf[4096];
  size_t n = 0;
  CHECK(auditwire_event_new(NULL, 3) == NULL);
  CHECK(last_error_has("action"));
  CHECK(auditwire_event_new(BAD_UTF8, 5) == NULL);
  CHECK(last_error_has("UTF-8"));
  auditwire_event_free(NULL);

  auditwire_event *ev = auditwire_event_new(S("user.signed_in"));
  CHECK(ev != NULL);
  /* Missing actor and context are reported with every other problem. */
  CHECK_RC(auditwire_event_to_json(ev, buf, sizeof buf, &n), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.actor: required"));
  CHECK(last_error_has("event.context: required"));
  /* Metadata on an actor or target that does not exist yet. */
  CHECK_RC(auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_ACTOR, 0, S("k"), S("v")),
           AUDITWIRE_RESULT_INVALID_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_bool(ev, AUDITWIRE_METADATA_SCOPE_TARGET, 0, S("k"), true),
           AUDITWIRE_RESULT_INVALID_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_int(ev, 42, 0, S("k"), 1), AUDITWIRE_RESULT_INVALID_ARGUMENT);

  CHECK_OK(auditwire_event_set_occurred_at(ev, S("2026-02-02T17:35:39.317355+01:00")));
  CHECK_RC(auditwire_event_set_occurred_at(ev, S("yesterday")), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.occurred_at: "));
  CHECK_OK(auditwire_event_set_version(ev, 1));
  CHECK_OK(auditwire_event_set_actor(ev, S("user_1"), S("user"), S("Jon Smith")));
  CHECK_OK(auditwire_event_add_target(ev, S("team_1"), S("team"), NULL, 0));
  CHECK_OK(auditwire_event_add_target(ev, S("doc_1"), S("document"), S("Plan")));
  CHECK_OK(auditwire_event_set_context(ev, S("123.123.123.123"), S("Chrome/104.0.0.0")));
  CHECK_OK(auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("owner"), S("user_2")));
  CHECK_OK(auditwire_event_set_metadata_int(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("count"), -3));
  CHECK_OK(auditwire_event_set_metadata_double(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("ratio"), 0.5));
  CHECK_OK(auditwire_event_set_metadata_bool(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("ok"), true));
  CHECK_RC(auditwire_event_set_metadata_double(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("nan"), 0.0 / 0.0),
           AUDITWIRE_RESULT_INVALID_ARGUMENT);
  CHECK_OK(auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_ACTOR, 0, S("role"), S("admin")));
  CHECK_OK(auditwire_event_set_metadata_bool(ev, AUDITWIRE_METADATA_SCOPE_TARGET, 1, S("shared"), false));
  CHECK_RC(auditwire_event_set_metadata_bool(ev, AUDITWIRE_METADATA_SCOPE_TARGET, 2, S("x"), false),
           AUDITWIRE_RESULT_INVALID_ARGUMENT);
  /* Size query, then the JSON. */
  CHECK_RC(auditwire_event_to_json(ev, NULL, 0, &n), AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  size_t needed = n;
  CHECK_OK(auditwire_event_to_json(ev, buf, sizeof buf, &n));
  CHECK(n == needed && strlen(buf) + 1 == n);
  CHECK(strcmp(buf,
               "{\"action\":\"user.signed_in\",\"occurred_at\":\"2026-02-02T16:35:39.317Z\",\"version\":1,"
               "\"actor\":{\"id\":\"user_1\",\"type\":\"user\",\"name\":\"Jon Smith\",\"metadata\":{\"role\":\"admin\"}},"
               "\"targets\":[{\"id\":\"team_1\",\"type\":\"team\"},{\"id\":\"doc_1\",\"type\":\"document\",\"name\":\"Plan\","
               "\"metadata\":{\"shared\":false}}],\"context\":{\"location\":\"123.123.123.123\",\"user_agent\":"
               "\"Chrome/104.0.0.0\"},\"metadata\":{\"owner\":\"user_2\",\"count\":-3,\"ratio\":0.5,\"ok\":true}}") == 0);
  /* The JSON it makes passes validation as a body. */
  char body[5000];
  int bl = snprintf(body, sizeof body, "{\"organization_id\":\"o\",\"event\":%s}", buf);
  CHECK_OK(auditwire_validate_json(body, (size_t)bl));
  /* Rule failures through the builder. */
  CHECK_OK(auditwire_event_set_version(ev, 0));
  CHECK_OK(auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("bad key"), S("v")));
  CHECK_RC(auditwire_event_to_json(ev, buf, sizeof buf, &n), AUDITWIRE_RESULT_VALIDATION);
  CHECK(last_error_has("event.version: "));
  CHECK(last_error_has("event.metadata[\"bad key\"]: "));
  CHECK_OK(auditwire_event_set_occurred_at_ms(ev, 0));
  CHECK_RC(auditwire_event_set_occurred_at_ms(ev, INT64_MAX), AUDITWIRE_RESULT_INVALID_ARGUMENT);

  /* NULL for every pointer argument of the builder. */
  CHECK_RC(auditwire_event_set_occurred_at(NULL, S("x")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_occurred_at(ev, NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_occurred_at_ms(NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_version(NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_actor(NULL, S("u"), S("t"), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_actor(ev, NULL, 1, S("t"), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_actor(ev, S("u"), NULL, 1, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_actor(ev, S("u"), S("t"), BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_event_add_target(NULL, S("u"), S("t"), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_add_target(ev, NULL, 1, S("t"), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_add_target(ev, S("u"), NULL, 1, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_add_target(ev, BAD_UTF8, 5, S("t"), NULL, 0), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_event_set_context(NULL, S("l"), NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_context(ev, NULL, 1, NULL, 0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_context(ev, S("l"), BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_event_set_metadata_string(NULL, 0, 0, S("k"), S("v")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_string(ev, 0, 0, NULL, 1, S("v")), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_string(ev, 0, 0, S("k"), NULL, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_string(ev, 0, 0, S("k"), BAD_UTF8, 5), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_event_set_metadata_int(NULL, 0, 0, S("k"), 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_int(ev, 0, 0, NULL, 1, 1), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_double(NULL, 0, 0, S("k"), 1.0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_double(ev, 0, 0, NULL, 1, 1.0), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_bool(NULL, 0, 0, S("k"), true), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_set_metadata_bool(ev, 0, 0, BAD_UTF8, 5, true), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_event_to_json(NULL, buf, sizeof buf, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_to_json(ev, NULL, 10, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_event_to_json(ev, buf, sizeof buf, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  auditwire_event_free(ev);
}

/* The disk spool: undelivered events stay on disk at shutdown; a full spool refuses. */
static void test_spool(void) {
  char dir[] = "/tmp/auditwire-c-spool-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  auditwire_options *o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  CHECK_OK(auditwire_options_set_durability(o, AUDITWIRE_DURABILITY_POWER_LOSS));
  CHECK_OK(auditwire_options_set_backoff(o, 60000, 1.0, 60000));
  auditwire_client *c = NULL;
  CHECK_OK(auditwire_client_new(o, &c));
  const char *ev = SIGNED_IN_EVENT;
  CHECK_OK(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0));
  /* Its first attempt fails (nothing listens): then it waits for a retry, not in flight. */
  auditwire_stats st;
  for (int i = 0; i < 500; i++) {
    CHECK_OK(auditwire_client_stats(c, &st));
    if (st.retried == 1 && st.in_flight == 0) break;
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  CHECK(st.retried == 1 && st.in_flight == 0);
  auditwire_shutdown_report report;
  CHECK_RC(auditwire_client_shutdown_report(NULL, 10, &report), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_client_shutdown_report(c, 10, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_OK(auditwire_client_shutdown_report(c, 50, &report));
  CHECK(report.remaining == 1 && report.spooled == 1 && report.lost == 0 && report.in_doubt == 0);
  CHECK_OK(auditwire_client_stats(c, &st));
  CHECK(st.spooled == 1);
  auditwire_client_free(c);

  /* Offline inspection: one pending event, no dead letters, nothing to retry. */
  char json[8192];
  size_t n = 0;
  uint64_t moved = 99;
  CHECK_OK(auditwire_spool_status_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strstr(json, "\"pending\":1") != NULL);
  CHECK_RC(auditwire_spool_status_json(dir, strlen(dir), NULL, 0, &n), AUDITWIRE_RESULT_BUFFER_TOO_SMALL);
  CHECK_OK(auditwire_spool_dead_letters_json(dir, strlen(dir), json, sizeof json, &n));
  CHECK(strcmp(json, "[]") == 0);
  CHECK_OK(auditwire_spool_retry(dir, strlen(dir), &moved));
  CHECK(moved == 0);
  CHECK_RC(auditwire_spool_status_json(S("/nonexistent/auditwire"), json, sizeof json, &n), AUDITWIRE_RESULT_SPOOL_ERROR);
  CHECK(last_error_has("no such directory"));
  CHECK_RC(auditwire_spool_dead_letters_json(S("/nonexistent/auditwire"), json, sizeof json, &n), AUDITWIRE_RESULT_SPOOL_ERROR);
  CHECK_RC(auditwire_spool_retry(S("/nonexistent/auditwire"), &moved), AUDITWIRE_RESULT_SPOOL_ERROR);
  CHECK_RC(auditwire_spool_status_json(NULL, 3, json, sizeof json, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_spool_status_json(dir, strlen(dir), json, sizeof json, NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_spool_status_json(BAD_UTF8, 5, json, sizeof json, &n), AUDITWIRE_RESULT_INVALID_UTF8);
  CHECK_RC(auditwire_spool_dead_letters_json(NULL, 3, json, sizeof json, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_spool_dead_letters_json(dir, strlen(dir), NULL, 4, &n), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_spool_retry(NULL, 3, &moved), AUDITWIRE_RESULT_NULL_ARGUMENT);
  CHECK_RC(auditwire_spool_retry(dir, strlen(dir), NULL), AUDITWIRE_RESULT_NULL_ARGUMENT);

  /* The next client adopts it; a tiny byte bound refuses new events. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_base_url(o, S("http://127.0.0.1:9")));
  CHECK_OK(auditwire_options_set_spool_dir(o, dir, strlen(dir)));
  CHECK_OK(auditwire_options_set_spool_max_bytes(o, 1));
  CHECK_OK(auditwire_options_set_backoff(o, 60000, 1.0, 60000));
  CHECK_OK(auditwire_options_set_shutdown_timeout_ms(o, 50));
  auditwire_result rc = auditwire_client_new(o, &c);
  if (rc == AUDITWIRE_RESULT_OK) {
    CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_SPOOL_FULL);
    CHECK(last_error_has("spool"));
    auditwire_client_free(c);
  } else {
    /* A core that checks the bound at creation refuses it there. */
    CHECK(rc == AUDITWIRE_RESULT_INVALID_CONFIG);
  }
  /* A CA file that cannot be read: refused at creation, naming the setting. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_ca_file(o, S("/nonexistent/auditwire/ca.pem")));
  c = NULL;
  CHECK_RC(auditwire_client_new(o, &c), AUDITWIRE_RESULT_INVALID_CONFIG);
  CHECK(last_error_has("ca_certificates: cannot read /nonexistent/auditwire/ca.pem"));
  CHECK(c == NULL);
  /* A spool directory that cannot be used. */
  o = auditwire_options_new();
  CHECK_OK(auditwire_options_set_ignore_env(o, true));
  CHECK_OK(auditwire_options_set_api_key(o, S("sk_test_secret_123")));
  CHECK_OK(auditwire_options_set_spool_dir(o, S("/proc/auditwire-no-such/dir")));
  rc = auditwire_client_new(o, &c);
  if (rc == AUDITWIRE_RESULT_OK) {
    CHECK_RC(auditwire_client_emit_json(c, S(TEST_ORG), ev, strlen(ev), NULL, 0), AUDITWIRE_RESULT_SPOOL_ERROR);
    auditwire_client_free(c);
  } else {
    CHECK(rc == AUDITWIRE_RESULT_SPOOL_ERROR);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  test_spool();
  test_version();
  test_result_codes();
  test_last_error();
  test_options();
  test_client_new_errors();
  test_validation_paths();
  test_event_builder();
  return finish("test_api");
}
