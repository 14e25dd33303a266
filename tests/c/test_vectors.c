/* The shared validation vectors (tests/vectors) through the C API: each case's result code
 * and its exact last-error text. Reads the file written by vectors_to_text.py. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static size_t unhex(const char *hex, char *out) {
  if (strcmp(hex, "-") == 0) return 0;
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (char)v;
  }
  return n;
}

static int valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return 0;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += len;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s vectors.txt\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (f == NULL) {
    perror(argv[1]);
    return 2;
  }
  static char line[8 << 20], kind[4], valid[4], in_hex[4 << 20], text_hex[1 << 20];
  static char input[2 << 20], expected[1 << 19];
  int cases = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "%3s %3s %4194303s %1048575s", kind, valid, in_hex, text_hex) != 4) continue;
    size_t n = unhex(in_hex, input);
    size_t tn = unhex(text_hex, expected);
    expected[tn] = '\0';
    cases++;
    auditwire_result rc = kind[0] == 'C' ? auditwire_validate_json(input, n)
                                         : auditwire_validate_legacy_json(input, n);
    if (valid[0] == '1') {
      CHECK_RC(rc, AUDITWIRE_RESULT_OK);
    } else if (!valid_utf8((const unsigned char *)input, n)) {
      /* The C API checks UTF-8 at the boundary, before parsing. */
      CHECK_RC(rc, AUDITWIRE_RESULT_INVALID_UTF8);
    } else {
      CHECK(rc == AUDITWIRE_RESULT_VALIDATION || rc == AUDITWIRE_RESULT_INVALID_JSON);
      if (strcmp(last_error(), expected) != 0) {
        g_failures++;
        fprintf(stderr, "case %d (%s): expected\n%s\ngot\n%s\n", cases, kind, expected, last_error());
      }
    }
  }
  fclose(f);
  CHECK(cases > 20);
  printf("test_vectors: %d cases\n", cases);
  return finish("test_vectors");
}
