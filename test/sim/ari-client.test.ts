/**
 * `ari-client` 2.2 (what src/ari builds on) against the sim: it loads our api-docs, lists
 * channels.externalMedia among its operations, and a whole call through it works, with events
 * promoted to Channel/Bridge instances (every event type the sim sends has a model).
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals';
import ari from 'ari-client';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {sleep} from './helpers.js';

describe('ari-client 2.2 against the sim', () => {
  let sim: SimHandle;
  let udp: Socket;
  let packets = 0;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(err);
  };

  beforeAll(async () => {
    // swagger-client prints a deprecation notice on every connect (expected; the adapter hides it)
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    process.on('uncaughtException', onUncaught);
    sim = await startSim({port: 0, seed: 17, answerDelayMs: 0});
    udp = createSocket('udp4');
    udp.on('message', () => packets++);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    udp?.close();
    await sim?.close();
    jest.restoreAllMocks();
  });

  it('connects and exposes channels.externalMedia and the other operations we serve', async () => {
    const client = await ari.connect(sim.url, 'rtpsla', 'rtpsla');
    expect(typeof client.channels.externalMedia).toBe('function');
    for (const op of ['originate', 'get', 'hangup', 'answer', 'list', 'getChannelVar', 'setChannelVar', 'rtpstatistics'] as const) {
      expect(typeof (client.channels as unknown as Record<string, unknown>)[op]).toBe('function');
    }
    for (const op of ['create', 'get', 'destroy', 'addChannel', 'removeChannel', 'list'] as const) {
      expect(typeof (client.bridges as unknown as Record<string, unknown>)[op]).toBe('function');
    }
    const info = (await client.asterisk.getInfo()) as unknown as {system: {version: string}};
    expect(info.system.version).toContain('rtpsla-sim');
  });

  it('runs a whole call through ari-client with events as resource instances', async () => {
    const client = await ari.connect(sim.url, 'rtpsla', 'rtpsla');
    const seen: string[] = [];
    (client as unknown as {on(e: string, cb: (event: {type: string}) => void): void}).on('*', (event) => seen.push(event.type));
    const started = new Map<string, unknown>();
    const args = new Map<string, string[]>();
    client.on('StasisStart', (event, channel) => {
      started.set(channel.id, channel);
      args.set(channel.id, ([] as string[]).concat(event.args));
    });
    await client.start('rtpsla');

    const local = client.Channel();
    await local.originate({endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', appArgs: 'rtpsla-load,run1,0', formats: 'ulaw'});
    for (let i = 0; i < 200 && !started.has(local.id); i++) await sleep(5);
    const startEvent = started.get(local.id) as {answer: () => Promise<void>} | undefined;
    expect(startEvent).toBeDefined();
    await startEvent!.answer();

    const em = await client.channels.externalMedia({app: 'rtpsla', external_host: `127.0.0.1:${udp.address().port}`, format: 'ulaw', variables: {FOO: 'bar'}});
    expect((em as unknown as {channelvars: Record<string, string>}).channelvars).toMatchObject({FOO: 'bar', UNICASTRTP_LOCAL_ADDRESS: '127.0.0.1'});
    for (let i = 0; i < 200 && !started.has(em.id); i++) await sleep(5);
    const bridge = await client.bridges.create({type: 'mixing'});
    await bridge.addChannel({channel: [local.id, em.id]});
    await sleep(300);
    expect(packets).toBeGreaterThan(3);
    await expect(client.channels.rtpstatistics({channelId: em.id})).rejects.toThrow('RTP info not found');
    await expect(client.channels.get({channelId: 'nope'})).rejects.toThrow('Channel not found');
    await local.hangup();
    await em.hangup();
    await bridge.destroy();
    await sleep(100);
    client.stop();

    expect(seen).toEqual(expect.arrayContaining(['StasisStart', 'ChannelEnteredBridge', 'ChannelVarset', 'StasisEnd', 'ChannelDestroyed', 'BridgeDestroyed']));
    expect(args.get(local.id)).toEqual(['rtpsla-load', 'run1', '0']);
    expect(args.get(em.id)).toEqual([]);
    expect(uncaught).toEqual([]);
  });
});
