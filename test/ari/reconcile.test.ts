import {
  bridgeNameFor,
  callIdFromBridgeName,
  externalHostOfChannel,
  findZombies,
  isLoadCaller,
} from '../../src/ari/reconcile.js';
import {loadAppArgs, newRunToken} from '../../src/protocol/app-args.js';
import type {AriBridge, AriChannel} from '../../src/ari/types.js';

const ch = (id: string, name: string, creationtime = '2026-11-22T02:00:00.000+0000'): AriChannel => ({id, name, state: 'Up', creationtime});
const br = (id: string, name: string, creationtime = '2026-11-22T02:00:00.000+0000'): AriBridge => ({
  id,
  name,
  technology: 'simple_bridge',
  bridge_type: 'mixing',
  channels: [],
  creationtime,
});

describe('naming convention', () => {
  it('bridgeNameFor and callIdFromBridgeName round-trip per app', () => {
    expect(bridgeNameFor('c-1')).toBe('rtpsla-rtpsla-c-1');
    expect(bridgeNameFor('c-1', 'bot')).toBe('rtpsla-bot-c-1');
    expect(callIdFromBridgeName(bridgeNameFor('c-1', 'bot'), 'bot')).toBe('c-1');
    expect(callIdFromBridgeName(bridgeNameFor('c-1', 'bot'), 'rtpsla')).toBeUndefined();
    expect(callIdFromBridgeName('someone-else', 'rtpsla')).toBeUndefined();
  });

  it('reads external_host from a UnicastRTP channel name', () => {
    expect(externalHostOfChannel('UnicastRTP/127.0.0.1:40000-0x7ffb6800ebc0')).toEqual({host: '127.0.0.1', port: 40000});
    expect(externalHostOfChannel('UnicastRTP/[::1]:4500-0x1')).toEqual({host: '::1', port: 4500});
    expect(externalHostOfChannel('Local/s@rtpsla-source-00000000;1')).toBeUndefined();
  });
});

describe('findZombies', () => {
  const channels = [
    ch('caller-live', 'Local/s@rtpsla-source-00000000;1'),
    ch('em-live', 'UnicastRTP/127.0.0.1:4500-0x1'),
    ch('em-zombie', 'UnicastRTP/127.0.0.1:4502-0x2'),
    ch('em-other-host', 'UnicastRTP/10.0.0.9:7000-0x3'),
    ch('own-id-odd-name', 'Something/else'),
    ch('caller-stray', 'Local/s@rtpsla-source-00000001;1'),
  ];
  const bridges = [
    br('b-live', bridgeNameFor('call-live')),
    br('b-zombie', bridgeNameFor('call-gone')),
    br('b-foreign', 'conference-room'),
    br('b-settingup', bridgeNameFor('call-new')),
  ];

  it('returns own externalMedia channels and app bridges that belong to no live call', () => {
    const plan = findZombies({
      channels,
      bridges,
      app: 'rtpsla',
      liveChannelIds: new Set(['caller-live', 'em-live']),
      liveBridgeIds: new Set(['b-live']),
      liveCallIds: new Set(['call-live', 'call-new']),
      ownChannelIds: new Set(['own-id-odd-name']),
      ownsExternalHost: (host, port) => host === '127.0.0.1' && port >= 4500 && port <= 5000,
    });
    expect(plan.channels.map((c) => c.id).sort()).toEqual(['em-zombie', 'own-id-odd-name']);
    expect(plan.bridges.map((b) => b.id)).toEqual(['b-zombie']);
  });

  it('without ownsExternalHost every UnicastRTP channel counts as ours', () => {
    const plan = findZombies({channels, bridges: [], app: 'rtpsla', liveChannelIds: new Set(['em-live']), liveBridgeIds: new Set()});
    expect(plan.channels.map((c) => c.id).sort()).toEqual(['em-other-host', 'em-zombie']);
  });

  it('leaves objects younger than graceMs alone', () => {
    const nowMs = Date.parse('2026-11-22T02:00:01.000Z');
    const plan = findZombies({
      channels: [ch('young', 'UnicastRTP/127.0.0.1:4504-0x4', '2026-11-22T02:00:00.500+0000'), ch('old', 'UnicastRTP/127.0.0.1:4506-0x5', '2026-11-22T01:59:00.000+0000')],
      bridges: [br('b-young', bridgeNameFor('x'), '2026-11-22T02:00:00.900+0000')],
      app: 'rtpsla',
      liveChannelIds: new Set(),
      liveBridgeIds: new Set(),
      graceMs: 2000,
      nowMs,
    });
    expect(plan.channels.map((c) => c.id)).toEqual(['old']);
    expect(plan.bridges).toEqual([]);
  });
});

describe("load's RTP caller (an externalMedia channel itself)", () => {
  // in serve's own relay range and on its BIND_IP, but its Stasis args mark it as load's caller
  const args = loadAppArgs('run-7', 3, newRunToken()).join(',');
  const caller: AriChannel = {
    ...ch('run-7-3', 'UnicastRTP/127.0.0.1:4510-0x7f0758002380'),
    dialplan: {context: 'default', exten: 's', priority: 1, app_name: 'Stasis', app_data: `rtpsla,${args}`},
  };
  const leftover: AriChannel = {
    ...ch('em-left', 'UnicastRTP/127.0.0.1:4512-0x7f07600022d0'),
    dialplan: {context: 'default', exten: 's', priority: 1, app_name: 'Stasis', app_data: 'rtpsla'},
  };

  it('is told apart by its args, not by its name or address', () => {
    expect(isLoadCaller(caller)).toBe(true);
    expect(isLoadCaller(leftover)).toBe(false);
    expect(isLoadCaller({...caller, dialplan: {...caller.dialplan!, app_name: 'AppDial2', app_data: '(Outgoing Line)'}})).toBe(false);
  });

  it('is never taken for serve\'s leftover, with or without ownsExternalHost', () => {
    const inRange = (host: string, port: number) => host === '127.0.0.1' && port >= 4500 && port <= 50000;
    for (const ownsExternalHost of [inRange, undefined]) {
      const plan = findZombies({channels: [caller, leftover], bridges: [], app: 'rtpsla', liveChannelIds: new Set(), liveBridgeIds: new Set(), ownsExternalHost});
      expect(plan.channels.map((c) => c.id)).toEqual(['em-left']);
    }
  });
});
