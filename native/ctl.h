/* Control channel: flat JSON command objects (strings, numbers, booleans) and the replies. */
#ifndef RTPSLA_CTL_H
#define RTPSLA_CTL_H

#include <stddef.h>

#define JSON_MAX_MEMBERS 24
struct json_member {
  char key[32];
  int is_string;
  char *str; /* into the object's arena */
  double num;
};
#define JSON_ARENA_BYTES (1 << 20) /* a command line is at most 1 MiB, so its strings fit */
struct json_obj {
  int n;
  struct json_member m[JSON_MAX_MEMBERS];
  size_t arena_used;
  char arena[JSON_ARENA_BYTES];
};
/* 0 on success, -1 when text is not a flat JSON object */
int json_parse_flat(const char *text, struct json_obj *out);
/* a string member, or NULL */
const char *json_str(const struct json_obj *o, const char *key);
/* a number (or boolean: 1/0) member into *out; returns 1 when present */
int json_num(const struct json_obj *o, const char *key, double *out);
void json_escape(const char *in, char *out, size_t outsz);

/* reply frames: {"id":N,"ok":true,<extra members>} / {"id":N,"ok":false,"error":..,"message":..} */
void reply_ok(double id, const char *extra_json_members);
void reply_err(double id, const char *code, const char *message);
const char *errno_name(int e);

#endif
