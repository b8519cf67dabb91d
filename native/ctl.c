/* Control channel: the flat JSON parser and the reply frames (see ctl.h). */
#include "ctl.h"
#include "out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
  return p;
}

static const char *parse_string(const char *p, char *out, size_t outsz) {
  if (*p != '"') return NULL;
  p++;
  size_t n = 0;
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      char e = *p++;
      switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case '"': case '\\': case '/': c = e; break;
        case 'u':
          for (int i = 0; i < 4; i++)
            if (*p) p++;
          c = '?';
          break;
        default: return NULL;
      }
    }
    if (n + 1 < outsz) out[n++] = c;
  }
  if (*p != '"') return NULL;
  out[n] = 0;
  return p + 1;
}

int json_parse_flat(const char *text, struct json_obj *o) {
  o->n = 0;
  o->arena_used = 0;
  const char *p = skip_ws(text);
  if (*p != '{') return -1;
  p = skip_ws(p + 1);
  if (*p == '}') return 0;
  for (;;) {
    if (o->n >= JSON_MAX_MEMBERS) return -1;
    struct json_member *m = &o->m[o->n];
    p = parse_string(p, m->key, sizeof m->key);
    if (p == NULL) return -1;
    p = skip_ws(p);
    if (*p != ':') return -1;
    p = skip_ws(p + 1);
    m->is_string = 0;
    m->num = 0;
    m->str = o->arena + o->arena_used;
    m->str[0] = 0;
    if (*p == '"') {
      p = parse_string(p, m->str, sizeof o->arena - o->arena_used);
      if (p == NULL) return -1;
      o->arena_used += strlen(m->str) + 1;
      m->is_string = 1;
    } else if (strncmp(p, "true", 4) == 0) {
      m->num = 1;
      p += 4;
    } else if (strncmp(p, "false", 5) == 0 || strncmp(p, "null", 4) == 0) {
      p += (*p == 'f') ? 5 : 4;
    } else {
      char *end;
      m->num = strtod(p, &end);
      if (end == p) return -1;
      p = end;
    }
    o->n++;
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') return 0;
    return -1;
  }
}

const char *json_str(const struct json_obj *o, const char *key) {
  for (int i = 0; i < o->n; i++)
    if (o->m[i].is_string && strcmp(o->m[i].key, key) == 0) return o->m[i].str;
  return NULL;
}

int json_num(const struct json_obj *o, const char *key, double *out) {
  for (int i = 0; i < o->n; i++)
    if (!o->m[i].is_string && strcmp(o->m[i].key, key) == 0) {
      *out = o->m[i].num;
      return 1;
    }
  return 0;
}

void json_escape(const char *in, char *out, size_t outsz) {
  size_t n = 0;
  for (; *in && n + 7 < outsz; in++) {
    unsigned char c = (unsigned char)*in;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, outsz - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = 0;
}

void reply_ok(double id, const char *extra) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":true%s%s}", id, extra && *extra ? "," : "", extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof buf) n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":true}", id);
  out_frame(FRAME_REPLY, buf, (size_t)n);
}

void reply_err(double id, const char *code, const char *message) {
  char esc[512], buf[1024];
  json_escape(message ? message : "", esc, sizeof esc);
  int n = snprintf(buf, sizeof buf, "{\"id\":%.0f,\"ok\":false,\"error\":\"%s\",\"message\":\"%s\"}", id, code, esc);
  out_frame(FRAME_REPLY, buf, (size_t)n);
}

const char *errno_name(int e) {
  switch (e) {
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    default: return "EIO";
  }
}
