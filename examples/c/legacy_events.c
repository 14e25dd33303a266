/* The seed's two v1 events (`user.login`, `tweet.update` with metadata), emitted from C.
 *
 *   WORKOS_API_KEY=sk_... WORKOS_BASE_URL=http://127.0.0.1:8787 ./legacy_events
 *
 * They are delivered in the background through the current API; flush waits for them. */
#include <auditwire.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what, auditwire_result rc) {
  char msg[4096];
  size_t n = 0;
  auditwire_last_error_message(msg, sizeof msg, &n);
  fprintf(stderr, "%s: %s\n%s\n", what, auditwire_result_str(rc), msg);
  return 1;
}

int main(void) {
  const char *login =
      "{\"group\":\"org_01EHWNCE74X7JSDV0X3SZ3KJNY\",\"action\":\"user.login\",\"action_type\":\"C\","
      "\"actor_name\":\"user@email.com\",\"actor_id\":\"user_1\","
      "\"target_name\":\"user@email.com\",\"target_id\":\"user_1\","
      "\"location\":\"1.1.1.1\",\"occurred_at\":\"2019-05-01T01:15:55.619Z\",\"metadata\":{}}";
  const char *tweet =
      "{\"group\":\"org_01EHWNCE74X7JSDV0X3SZ3KJNY\",\"action\":\"tweet.update\",\"action_type\":\"U\","
      "\"actor_name\":\"Jon Smith\",\"actor_id\":\"user_01DGZ0FAXN978HCET66Q98QMTQ\","
      "\"target_name\":\"What I am eating for dinner\",\"target_id\":\"tweet_5\","
      "\"location\":\"1.1.1.1\",\"occurred_at\":\"2019-05-01T01:15:55.619Z\","
      "\"metadata\":{\"body_was\":\"What I am eating for dinner\",\"body\":\"What I am eating for lunch\"}}";

  /* Key and URL come from WORKOS_API_KEY and WORKOS_BASE_URL. */
  auditwire_client *client = NULL;
  auditwire_result rc = auditwire_client_new(auditwire_options_new(), &client);
  if (rc != AUDITWIRE_RESULT_OK) return fail("client", rc);

  if ((rc = auditwire_client_emit_legacy_json(client, login, strlen(login))) != AUDITWIRE_RESULT_OK)
    return fail("user.login", rc);
  if ((rc = auditwire_client_emit_legacy_json(client, tweet, strlen(tweet))) != AUDITWIRE_RESULT_OK)
    return fail("tweet.update", rc);

  uint64_t remaining = 0;
  if ((rc = auditwire_client_flush(client, 10000, &remaining)) != AUDITWIRE_RESULT_OK)
    return fail("flush", rc);
  auditwire_stats stats;
  auditwire_client_stats(client, &stats);
  printf("delivered %llu of %llu events\n", (unsigned long long)stats.delivered,
         (unsigned long long)stats.accepted);
  auditwire_client_free(client);
  return stats.delivered == 2 ? 0 : 1;
}
