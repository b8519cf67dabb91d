/* The relay role: per call, one UDP socket between Asterisk and the echo (PROTOCOL.md). */
#ifndef RTPSLA_RELAY_H
#define RTPSLA_RELAY_H

#include <stdint.h>
#include "ctl.h"
#include "loop.h"

/* relay.open / relay.setAsterisk / relay.drain / relay.stats / relay.close */
void relay_command(const char *cmd, double id, const struct json_obj *o);
/* a relay socket (H_RELAY) is readable */
void relay_on_readable(struct handle *h, int64_t now);
/* relays open (the engine's stats) */
int relay_count(void);

#endif
