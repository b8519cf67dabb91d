/** `rtpsla sim`'s fault switches given at start-up, as flags: each parsed by the switch's own checker. */
import {Flags} from '@oclif/core';
import {settingName} from '../config/flags.js';
import {ConfigError, errorMessage} from '../errors.js';
import {parseFailFlag, type FailRule} from './faults.js';
import type {ForwardDelayRule, LateAboveCallsRule} from './forwarding.js';
import {parseForwardDelayFlag, parseLateAboveCallsFlag, parseLateFirstPacketsFlag, type LateFirstPacketsRule} from './media-faults.js';

/** The flag parser of a rule: `parse`'s error prefixed with the flag's name. */
function ruleParser<T>(parse: (text: string) => T) {
  return async (text: string, _ctx: unknown, o: {name: string; env?: string}): Promise<T> => {
    try {
      return parse(text);
    } catch (err) {
      throw new ConfigError(`${settingName(o)}: ${errorMessage(err)}`);
    }
  };
}

export const simFaultFlags = {
  fail: Flags.custom<FailRule>({parse: ruleParser(parseFailFlag)})({description: 'Make an ARI operation fail: OPERATION=STATUS[:COUNT] (e.g. externalMedia=500:1, addChannel=422); repeatable.', multiple: true}),
  'late-first-packets': Flags.custom<LateFirstPacketsRule>({parse: ruleParser(parseLateFirstPacketsFlag)})({
    description: 'Hold the first frames of a share of the tone streams for a uniform draw in (0, MAXMS], then send them at once: SHARE:MAXMS (recorded at 150 calls with a Milliwatt() caller: 0.59:151), or SHARE:MINMS-MAXMS (1:150-150 holds every stream exactly 150 ms). Counted in GET /_sim/stats faults.lateFirstPackets.',
  }),
  'forward-delay': Flags.custom<ForwardDelayRule>({parse: ruleParser(parseForwardDelayFlag)})({
    description: 'Extra delay on one direction of the RTP-caller forwarding: DIRECTION:EXTRAMS:DURATIONMS[:CALLS] (toRelay or toCaller; CALLS = call indices or channel ids joined by +; default all). Counted in GET /_sim/stats faults.forwardDelay.',
  }),
  'late-above-calls': Flags.custom<LateAboveCallsRule>({parse: ruleParser(parseLateAboveCallsFlag)})({
    description: 'While more than K calls with an RTP caller are up, every frame the sim forwards is MS late (default 30): K[:MS]. A capacity edge for testing `rtpsla capacity`; counted in GET /_sim/stats faults.lateAboveCalls.',
  }),
};
