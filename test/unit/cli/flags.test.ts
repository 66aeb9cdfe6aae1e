import { describe, expect, it } from 'vitest';
import { operatorSettings, parseCommandLine, UsageError } from '../../../operator/cli.ts';
import { intakeSettings } from '../../../operator/commands/intake.ts';

/** The settings of `tributary <argv>` with `env`, or the usage error's message. */
function settings(argv: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    return operatorSettings(parseCommandLine(argv).values, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
}

describe('operator flags', () => {
  it('defaults every setting', () => {
    expect(settings(['operator'])).toEqual({
      image: 'ghcr.io/tributary-dev/tributary:0.1.0',
      namespaces: [],
      metricsPort: 8080,
      leaderElection: true,
      leaseNamespace: undefined,
      leaseName: 'tributary-operator',
      workers: 4,
      kubeApiQps: 50,
      kubeApiBurst: 300,
      logLevel: 'info',
      intakeURLs: [],
      webhookGrace: '2m',
    });
  });

  it('reads the client request budget from flags and KUBE_API_QPS / KUBE_API_BURST', () => {
    expect(settings(['operator'], { KUBE_API_QPS: '20', KUBE_API_BURST: '30' })).toMatchObject({
      kubeApiQps: 20,
      kubeApiBurst: 30,
    });
    expect(
      settings(['operator', '--kube-api-qps', '0.5', '--kube-api-burst=1'], { KUBE_API_QPS: '20' }),
    ).toMatchObject({ kubeApiQps: 0.5, kubeApiBurst: 1 });
  });

  it('reads the intake URLs and the webhook grace, refusing a grace that is no duration', () => {
    const env = { INTAKE_URL: 'http://a:8081, http://b:8081', WEBHOOK_GRACE: '30s' };
    expect(settings(['operator'], env)).toMatchObject({
      intakeURLs: ['http://a:8081', 'http://b:8081'],
      webhookGrace: '30s',
    });
    expect(settings(['operator', '--webhook-grace', 'soon'])).toMatch(
      /--webhook-grace must be a duration/,
    );
  });

  it('takes flags over their environment variables', () => {
    const env = { WORKERS: '2', METRICS_PORT: '9000', LEADER_ELECT: 'true', LOG_LEVEL: 'warn' };
    expect(settings(['operator', '--workers', '8', '--leader-elect=false'], env)).toMatchObject({
      workers: 8,
      metricsPort: 9000,
      leaderElection: false,
      logLevel: 'warn',
    });
  });

  it.each<[string, string[], NodeJS.ProcessEnv, string]>([
    ['an unknown flag', ['operator', '--wrokers', '4'], {}, "unknown option '--wrokers'"],
    [
      'a flag without its value',
      ['operator', '--workers'],
      {},
      "'--workers <value>' argument missing",
    ],
    [
      'zero workers',
      ['operator', '--workers', '0'],
      {},
      '--workers must be a whole number from 1 to 1024, got "0"',
    ],
    [
      'negative workers',
      ['operator', '--workers=-2'],
      {},
      '--workers must be a whole number from 1 to 1024, got "-2"',
    ],
    [
      'workers that are not a number',
      ['operator', '--workers', 'abc'],
      {},
      '--workers must be a whole number from 1 to 1024, got "abc"',
    ],
    [
      'fractional workers',
      ['operator', '--workers', '1.5'],
      {},
      '--workers must be a whole number',
    ],
    [
      'WORKERS that is not a number',
      ['operator'],
      { WORKERS: 'four' },
      'WORKERS (--workers) must be a whole number from 1 to 1024, got "four"',
    ],
    [
      'a QPS of 0',
      ['operator', '--kube-api-qps', '0'],
      {},
      '--kube-api-qps must be a number above 0 and at most 100000, got "0"',
    ],
    [
      'a negative QPS',
      ['operator'],
      { KUBE_API_QPS: '-1' },
      'KUBE_API_QPS (--kube-api-qps) must be a number above 0 and at most 100000, got "-1"',
    ],
    [
      'a QPS that is not a number',
      ['operator', '--kube-api-qps', '1e3'],
      {},
      '--kube-api-qps must be a number above 0',
    ],
    [
      'a fractional burst',
      ['operator', '--kube-api-burst', '2.5'],
      {},
      '--kube-api-burst must be a whole number from 1 to 100000, got "2.5"',
    ],
    [
      'a port of 0',
      ['operator', '--metrics-port', '0'],
      {},
      '--metrics-port must be a whole number from 1 to 65535, got "0"',
    ],
    [
      'a port out of range',
      ['operator'],
      { METRICS_PORT: '70000' },
      'METRICS_PORT (--metrics-port) must be a whole number from 1 to 65535',
    ],
    [
      'a port that is not a number',
      ['operator', '--metrics-port', '80a'],
      {},
      '--metrics-port must be a whole number',
    ],
    [
      'a boolean that is neither',
      ['operator', '--leader-elect', 'yes'],
      {},
      '--leader-elect must be one of true, false, got "yes"',
    ],
    [
      'an unknown log level',
      ['operator'],
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL (--log-level) must be one of trace, debug, info, warn, error',
    ],
    [
      'a bad namespace',
      ['operator', '--namespace', 'Not_A_Namespace'],
      {},
      'WATCH_NAMESPACE (--namespace): "Not_A_Namespace" is not a namespace name',
    ],
  ])('refuses %s, naming the flag', (_, argv, env, message) => {
    const result = settings(argv, env);
    expect(typeof result).toBe('string');
    expect(result).toContain(message);
  });
});

describe('intake flags', () => {
  const intake = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      return intakeSettings(parseCommandLine(['intake', ...argv]).values, env);
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
  };

  it('defaults every setting', () => {
    expect(intake([])).toEqual({
      port: 8090,
      metricsPort: 8081,
      store: 'sqlite',
      dataDir: '/var/lib/tributary-intake',
      natsServers: [],
      natsStream: 'TRIBUTARY_WEBHOOKS',
      namespaces: [],
      workers: 4,
      maxBodyBytes: 1_048_576,
      logLevel: 'info',
    });
  });

  it('reads flags over the environment and refuses what cannot run', () => {
    expect(
      intake(['--store', 'jetstream'], { NATS_URL: 'nats://a:4222, nats://b:4222' }),
    ).toMatchObject({
      store: 'jetstream',
      natsServers: ['nats://a:4222', 'nats://b:4222'],
    });
    expect(intake(['--store', 'jetstream'])).toBe('--store jetstream needs NATS_URL (--nats-url)');
    expect(intake(['--store', 'redis'])).toMatch(/--store must be one of sqlite, jetstream/);
    expect(intake(['--max-body-bytes', '0'])).toMatch(/--max-body-bytes must be a whole number/);
    expect(intake(['--port', '9000'], { INTAKE_PORT: '7000' })).toMatchObject({ port: 9000 });
  });
});
