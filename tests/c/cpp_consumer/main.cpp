// C++17 use of auditwire through find_package(auditwire): RAII handles, the version macros,
// validation, and (when AUDITWIRE_TEST_BASE_URL is set) one event delivered.
#include <auditwire.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

struct ClientDeleter {
  void operator()(auditwire_client *c) const noexcept { auditwire_client_free(c); }
};
using Client = std::unique_ptr<auditwire_client, ClientDeleter>;

std::string last_error() {
  std::size_t n = 0;
  auditwire_last_error_message(nullptr, 0, &n);
  std::string s(n, '\0');
  if (auditwire_last_error_message(s.data(), s.size(), &n) != AUDITWIRE_RESULT_OK) return {};
  s.resize(n - 1);
  return s;
}

int failures = 0;
void check(bool ok, const char *what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "check failed: %s (%s)\n", what, last_error().c_str());
  }
}

}  // namespace

int main() {
  const std::string expected = std::to_string(AUDITWIRE_VERSION_MAJOR) + "." +
                               std::to_string(AUDITWIRE_VERSION_MINOR) + "." +
                               std::to_string(AUDITWIRE_VERSION_PATCH);
  check(expected == auditwire_version(), "version macros match auditwire_version()");

  constexpr std::string_view bad = R"({"organization_id":"o","event":{"action":""}})";
  check(auditwire_validate_json(bad.data(), bad.size()) == AUDITWIRE_RESULT_VALIDATION,
        "validation fails");
  check(last_error().find("event.action: must not be empty") != std::string::npos,
        "validation text");

  if (const char *url = std::getenv("AUDITWIRE_TEST_BASE_URL"); url != nullptr) {
    auditwire_options *o = auditwire_options_new();
    constexpr std::string_view key = "sk_test_c_secret_key";
    check(auditwire_options_set_api_key(o, key.data(), key.size()) == AUDITWIRE_RESULT_OK, "key");
    check(auditwire_options_set_base_url(o, url, std::strlen(url)) == AUDITWIRE_RESULT_OK, "url");
    auditwire_client *raw = nullptr;
    check(auditwire_client_new(o, &raw) == AUDITWIRE_RESULT_OK, "client");
    Client client(raw);
    constexpr std::string_view org = "org_01EHWNCE74X7JSDV0X3SZ3KJNY";
    constexpr std::string_view event =
        R"({"action":"user.signed_in","occurred_at":"2026-02-02T16:35:39.317Z",)"
        R"("actor":{"id":"user_1","type":"user"},"targets":[{"id":"team_1","type":"team"}],)"
        R"("context":{"location":"123.123.123.123"}})";
    check(auditwire_client_create_event_json(client.get(), org.data(), org.size(), event.data(),
                                             event.size(), nullptr, 0,
                                             10000) == AUDITWIRE_RESULT_OK,
          "create_event_json");
  }
  std::printf("cpp_consumer: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
