/* The current-API example (`user.signed_in`, as in the WorkOS docs), built field by field
 * with the event builder: no JSON library needed. Waits for delivery like the official SDKs.
 *
 *   WORKOS_API_KEY=sk_... WORKOS_BASE_URL=http://127.0.0.1:8787 ./current_event */
#include <auditwire.h>

#include <stdio.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

int main(void) {
  auditwire_client *client = NULL;
  auditwire_result rc = auditwire_client_new(auditwire_options_new(), &client);
  if (rc == AUDITWIRE_RESULT_OK) {
    auditwire_event *ev = auditwire_event_new(S("user.signed_in"));
    auditwire_event_set_version(ev, 1);
    auditwire_event_set_actor(ev, S("user_01GBNJC3MX9ZZJW1FSTF4C5938"), S("user"), S("Jon Smith"));
    auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_ACTOR, 0, S("role"), S("admin"));
    auditwire_event_add_target(ev, S("team_01GBNJD4MKHVKJGEWK42JNMBGS"), S("team"), S("Team"));
    auditwire_event_set_context(ev, S("123.123.123.123"), S("Chrome/104.0.0.0"));
    auditwire_event_set_metadata_string(ev, AUDITWIRE_METADATA_SCOPE_EVENT, 0, S("owner"), S("user_01GBTCQ2"));
    /* Consumes the event; returns once the API has answered (or 10 s passed). */
    rc = auditwire_client_create_event(client, S("org_01EHWNCE74X7JSDV0X3SZ3KJNY"), ev, NULL, 0, 10000);
  }
  if (rc != AUDITWIRE_RESULT_OK) {
    char msg[4096];
    size_t n = 0;
    auditwire_last_error_message(msg, sizeof msg, &n);
    fprintf(stderr, "%s\n%s\n", auditwire_result_str(rc), msg);
  } else {
    printf("user.signed_in delivered\n");
  }
  auditwire_client_free(client);
  return rc == AUDITWIRE_RESULT_OK ? 0 : 1;
}
