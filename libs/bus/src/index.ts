// @kec/bus: NATS JetStream for kec — connection, subject grammar, streams and consumers, publisher, consumer loop, KV.
export { type DeadLetter, parseBatch, settlePublishes } from './batch.ts';
export { type Bus, type ConnectBusOptions, connectBus } from './connect.ts';
export {
  type BatchConsumeOptions,
  type BatchResult,
  type BusMessage,
  backoffDelay,
  type ConsumeOptions,
  type ConsumerHandle,
  type ConsumerStats,
  type ConsumerWindow,
  consume,
  consumerWindow,
  type DeadLetterReason,
  DLQ_HEADERS,
  formatConsumerWindow,
  type SingleConsumeOptions,
  sumWindows,
} from './consume.ts';
export {
  BusConnectError,
  BusError,
  ConsumeError,
  isRetryableError,
  PoisonMessageError,
  ProvisionError,
  PublishError,
  SubjectError,
} from './errors.ts';
export { type KV, type OpenKvOptions, openKv } from './kv.ts';
export {
  encodePayload,
  type PubAck,
  Publisher,
  type PublisherOptions,
  type PublishOptions,
  toPublishError,
} from './publisher.ts';
export {
  type NatsSecurity,
  type NatsSecurityConfig,
  natsSecurity,
  type ParsedServers,
  parseServers,
  securityOptions,
} from './security.ts';
export {
  type ConsumerSpec,
  configDiff,
  consumerSpec,
  type EnsureResult,
  ensureConsumer,
  ensureStream,
  ensureStreams,
  GROW_ONLY_STREAM_FIELDS,
  MAX_MSG_SIZE,
  STREAM_CATALOGUE,
  type StreamSpec,
  type StreamSpecOptions,
  streamSpec,
  streamSpecs,
  subjectsCollide,
  withoutShrinks,
} from './streams.ts';
export {
  DEFAULT_ROOT,
  EMPTY_TOKEN,
  type ParsedSubject,
  SUBJECT_KINDS,
  type SubjectKind,
  type Subjects,
  subjects,
  token,
  untoken,
  validateRoot,
} from './subjects.ts';
