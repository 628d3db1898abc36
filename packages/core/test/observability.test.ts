import { type Emulator, startEmulator } from '@imbot/emulator';
import { metrics } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Logger, RongCloud, TencentIm } from '../src/index.js';

const SECRET_KEY = 'observability-secret-key';
const APP_SECRET = 'observability-app-secret';
const BOT = '@RBT#watched';
const STREAM_API = 'openim_robot_http_svc/send_stream_msg';

/** An in-memory reader: metrics are read when the test asks (`collect()`), nothing is exported. */
class InMemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Every data point of the metric `name`, as `[attributes, value]`. */
function points(collected: ResourceMetrics, name: string): [Record<string, unknown>, unknown][] {
  return collected.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) =>
      (metric.dataPoints as DataPoint<unknown>[]).map((p): [Record<string, unknown>, unknown] => [
        p.attributes,
        p.value,
      ]),
    );
}

/** A logger that keeps every line, as pino would write it. */
function memoryLogger(): Logger & { lines: { level: string; fields: object; message?: string }[] } {
  const lines: { level: string; fields: object; message?: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      lines.push({ level, fields, ...(message !== undefined ? { message } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

let emulator: Emulator;
const reader = new InMemoryReader();
const provider = new MeterProvider({ readers: [reader] });

beforeAll(async () => {
  emulator = await startEmulator({
    tencent: { sdkAppId: 1400000000, secretKey: SECRET_KEY, admin: 'administrator', robots: [BOT] },
    rongcloud: { appKey: 'watched-app', appSecret: APP_SECRET },
  });
  // As an app does: the provider is registered globally before the clients are made.
  metrics.setGlobalMeterProvider(provider);
});
afterAll(async () => {
  await emulator.close();
  metrics.disable();
  await provider.shutdown();
});
beforeEach(() => emulator.reset());

describe('a Tencent client, watched', () => {
  it('reports calls, rejections, retries, the budget and stream latency to OpenTelemetry and stats()', async () => {
    const logger = memoryLogger();
    const im = new TencentIm({
      sdkAppId: 1400000000,
      admin: 'administrator',
      secretKey: SECRET_KEY,
      baseUrl: emulator.url,
      retry: { retries: 4, minDelayMs: 1, maxDelayMs: 5 },
      logger,
    });
    // The cloud refuses two streaming calls (10002, retried); a connection drops under get_all_robots.
    emulator.faults.failNext(STREAM_API, 1, { errorCode: 10002 });
    const session = im.openStream({ from: BOT, to: 'alice' }, { minIntervalMs: 10 });
    for (const word of 'one two three four five six'.split(' ')) {
      session.write(`${word} `);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    emulator.faults.failNext(STREAM_API, 1, { errorCode: 10002 });
    const finish = await session.end();
    expect(finish.reason).toBe('completed');
    const made = emulator.tencent.calls().filter((call) => call.api === STREAM_API).length;
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 1, 'reset-before');
    await im.getAllRobots();

    const { resourceMetrics } = await reader.collect();
    const calls = points(resourceMetrics, 'imbot.client.calls').filter(([a]) => a.api === STREAM_API);
    const count = (outcome: string) => calls.find(([a]) => a.outcome === outcome)?.[1] as number;
    expect(count('rejected')).toBe(2);
    expect(count('ok')).toBe(made - 2);
    expect(points(resourceMetrics, 'imbot.client.calls')).toContainEqual([
      { cloud: 'tencent', api: 'openim_robot_http_svc/get_all_robots', outcome: 'failed' },
      1,
    ]);
    expect(points(resourceMetrics, 'imbot.client.rejections')).toContainEqual([
      { cloud: 'tencent', api: STREAM_API, code: '10002' },
      2,
    ]);
    expect(points(resourceMetrics, 'imbot.client.retries')).toContainEqual([
      { cloud: 'tencent', api: STREAM_API },
      2,
    ]);
    const [latency] = points(resourceMetrics, 'imbot.stream.delivery.latency') as [unknown, Histogram][];
    expect(latency?.[1].count).toBe(finish.calls);
    expect(latency?.[1].min).toBeGreaterThanOrEqual(0);
    const budget = points(resourceMetrics, 'imbot.client.budget.in_use').find(([a]) => a.api === STREAM_API);
    expect(budget?.[1]).toBeGreaterThan(0); // slots still cooling within the window
    expect(points(resourceMetrics, 'imbot.client.budget.limit')).toContainEqual([
      { cloud: 'tencent', api: STREAM_API },
      200,
    ]);
    expect(points(resourceMetrics, 'imbot.stream.queue.depth')).toContainEqual([{ cloud: 'tencent' }, 0]);

    const stats = im.stats();
    expect(stats.calls).toEqual({ total: made + 2, ok: made - 2 + 1, rejected: 2, failed: 1 });
    expect(stats.retries).toBe(3);
    expect(stats.apis['openim_robot_http_svc/get_all_robots']).toMatchObject({
      ok: 1,
      failed: 1,
      retries: 1,
    });
    expect(stats.apis[STREAM_API]).toMatchObject({
      rejected: 2,
      failed: 0,
      retries: 2,
      codes: { '10002': 2 },
      budget: { perSecond: 200 },
    });
    expect(stats.deliveryLatencyMs.count).toBe(finish.calls);
    expect(stats.deliveryLatencyMs.max).toBeGreaterThanOrEqual(stats.deliveryLatencyMs.p50);
    expect(stats.streams).toEqual({ open: 0, queued: 0 });

    // The logger heard both failures, and nothing secret.
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    const rejected = { api: STREAM_API, outcome: 'rejected', code: 'TENCENT_API', errorCode: '10002' };
    expect(warnings.map((line) => line.fields)).toEqual([
      expect.objectContaining(rejected),
      expect.objectContaining(rejected),
      expect.objectContaining({
        api: 'openim_robot_http_svc/get_all_robots',
        outcome: 'failed',
        code: 'NETWORK',
      }),
    ]);
    const written = JSON.stringify(logger.lines);
    expect(written).not.toContain(SECRET_KEY);
    expect(written).not.toMatch(/usersig=/i);
    await im.close();
  });

  it('is silent by default and with meter: false records nothing', async () => {
    const before = points((await reader.collect()).resourceMetrics, 'imbot.client.calls')
      .filter(([a]) => a.api === 'openim_robot_http_svc/get_all_robots')
      .reduce((sum, [, value]) => sum + (value as number), 0);
    const im = new TencentIm({
      sdkAppId: 1400000000,
      admin: 'administrator',
      secretKey: SECRET_KEY,
      baseUrl: emulator.url,
      meter: false,
    });
    await im.getAllRobots();
    const after = points((await reader.collect()).resourceMetrics, 'imbot.client.calls')
      .filter(([a]) => a.api === 'openim_robot_http_svc/get_all_robots')
      .reduce((sum, [, value]) => sum + (value as number), 0);
    expect(after).toBe(before);
    expect(im.stats().calls.ok).toBe(1); // stats() counts whatever the meter
    await im.close();
  });

  it('refuses a logger or meter that is not one, naming the option', () => {
    const base = {
      sdkAppId: 1400000000,
      admin: 'administrator',
      secretKey: SECRET_KEY,
      baseUrl: emulator.url,
    };
    expect(() => new TencentIm({ ...base, logger: { info() {} } as unknown as Logger })).toThrow(
      /logger needs debug, info, warn and error methods/,
    );
    expect(() => new TencentIm({ ...base, meter: {} as never })).toThrow(
      /meter must be an OpenTelemetry Meter/,
    );
  });
});

describe('a RongCloud client, watched', () => {
  it('counts its calls and rejections by path and code', async () => {
    const logger = memoryLogger();
    const rong = new RongCloud({
      appKey: 'watched-app',
      appSecret: APP_SECRET,
      baseUrl: emulator.url,
      retry: { retries: 0 },
      logger,
    });
    emulator.faults.failNext('/v3/bot/get.json', 1, { errorCode: 1002, errorInfo: 'bad parameter' });
    await expect(rong.getBots(['bot1'])).rejects.toMatchObject({ errorCode: 1002 });
    await rong.getBots(['bot1']);
    expect(rong.stats().apis['/v3/bot/get.json']).toMatchObject({ ok: 1, rejected: 1, codes: { '1002': 1 } });
    const { resourceMetrics } = await reader.collect();
    expect(points(resourceMetrics, 'imbot.client.rejections')).toContainEqual([
      { cloud: 'rongcloud', api: '/v3/bot/get.json', code: '1002' },
      1,
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain(APP_SECRET);
    await rong.close();
  });
});
