/* The echo role: reflects every RTP datagram to its sender, paced per source (PROTOCOL.md). */
#ifndef RTPSLA_ECHO_H
#define RTPSLA_ECHO_H

#include <stdint.h>
#include "ctl.h"
#include "loop.h"

/* echo.open / echo.stats / echo.close */
void echo_command(const char *cmd, double id, const struct json_obj *o);
/* an echo socket (H_ECHO) is readable */
void echo_on_readable(struct handle *h, int64_t now);
/* expire idle sources (the engine calls it every ~100 ms) */
void echo_housekeeping(int64_t now);

#endif
