/**
 * What the media server behind serve's relay does with the caller's frames (`serve --media-server`,
 * `echo --mode`): `echo` returns each frame byte-identical (rtt and the legs are measured), `stream`
 * sends its own paced stream (a voice bot: the back stream is judged on its own), `sink` sends
 * nothing back (a transcriber or recorder: the up stream as delivered to it is judged).
 */
export const MEDIA_SERVER_KINDS = ['echo', 'stream', 'sink'] as const;
export type MediaServerKind = (typeof MEDIA_SERVER_KINDS)[number];

/** Why a back-stream figure is null under each kind that has none. */
export const NO_RTT_REASON: Readonly<Record<Exclude<MediaServerKind, 'echo'>, string>> = {
  stream: 'media server: stream (no echo)',
  sink: 'media server: sink (sends nothing back)',
};
