import {LEASE_REFRESH_MS} from './app-lock.js';

/** `rtpsla serve --help`: what serve does, its HTTP endpoint, the app lease, signals. */
export const SERVE_DESCRIPTION = `Answers each call, bridges it with an externalMedia channel pointed at a relay port, and forwards RTP to the echo (or media) server and back, measuring every packet.

What the media server is (--media-server) decides how the back stream is judged: an echo returns each frame (round trip and legs measured), a stream is judged on its own (lateness against its own earliest phase, loss by its own sequence numbers, no round trip), and for a sink, which sends nothing back, the up stream as delivered to it is judged. A figure with no sample is null with its reason, and a call whose media server sends what is not an echo while serve expects one fails with that reason.

HTTP on --metrics-host:--metrics-port: /health (503 while ARI is disconnected, and after ApplicationReplaced: another client registered the same app, so this serve no longer receives its events), /metrics (Prometheus text; JSON with Accept: application/json), /calls (live calls), /runs/RUNID (per-call records for \`rtpsla load\`).

One serve per app: a serve holds a lease on its app in the Asterisk global variable RTPSLA_SERVE_<app> (refreshed every ${LEASE_REFRESH_MS / 1000} s, valid for ${(3 * LEASE_REFRESH_MS) / 1000} s), and a second serve for the same app on the same Asterisk refuses to start (one line naming the first one's HTTP address, exit 2) before it registers the app or deletes anything. Characters other than letters, digits and _ in <app> become _. A serve that crashed frees the app within ${(3 * LEASE_REFRESH_MS) / 1000} s. Writing the lease needs an ARI user that is not read_only (ari.conf).

Logs one line per event on stderr (call id on every line) and a stats line every --metrics-interval-sec. SIGINT/SIGTERM: hangs up its calls, destroys its bridges, releases ports and the lease, exits 0 (a second signal exits 130 at once).`;
