/** Which media engine measured: the native worker (kernel receive timestamps) or the pure-Node engine. */
export type EngineKind = 'native' | 'node';
