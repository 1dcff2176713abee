// A notifier from a receiver config; config problems and unreadable secrets become ReceiverConfigError naming the
// receiver and the key.
import { type ReceiverConfig, receiverConfigProblems } from '../config.ts';
import { ReceiverConfigError, SecretError } from '../errors.ts';
import type { SecretSource } from '../secrets.ts';
import { alertmanagerNotifier } from './alertmanager.ts';
import { dingtalkNotifier } from './dingtalk.ts';
import { slackNotifier } from './slack.ts';
import type { Notifier } from './types.ts';
import { webhookNotifier } from './webhook.ts';

/** Builds the notifier of a receiver config; throws ReceiverConfigError (with `receiver` and `path`) when it is bad. */
export function createNotifier(config: unknown, source: SecretSource = {}): Notifier {
  const name = (config as { name?: unknown } | null)?.name;
  const receiver = typeof name === 'string' ? name : undefined;
  const problems = receiverConfigProblems(config);
  if (problems.length > 0) {
    const first = problems[0] as { path: string; message: string };
    throw new ReceiverConfigError(
      `receiver ${receiver ?? '(unnamed)'}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      { receiver, path: first.path },
    );
  }
  const cfg = config as ReceiverConfig;
  try {
    switch (cfg.type) {
      case 'alertmanager':
        return alertmanagerNotifier(cfg, source);
      case 'webhook':
        return webhookNotifier(cfg, source);
      case 'slack':
        return slackNotifier(cfg, source);
      case 'dingtalk':
        return dingtalkNotifier(cfg, source);
    }
  } catch (err) {
    if (err instanceof SecretError) {
      throw new ReceiverConfigError(`receiver ${cfg.name}: ${err.message}`, { cause: err, receiver: cfg.name });
    }
    if (err instanceof TypeError) {
      throw new ReceiverConfigError(`receiver ${cfg.name}: ${err.message}`, {
        cause: err,
        receiver: cfg.name,
        path: '/url',
      });
    }
    throw err;
  }
}
