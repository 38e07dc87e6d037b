/**
 * Observability: metrics, request logging and tracing, health, alerts. Everything here
 * subscribes to diagnostics channels; nothing is called from the request path.
 */
export { AndonMetrics, DEFAULT_BUCKETS, KNOWN_METHODS, METRIC_PREFIX, type MetricsOptions } from './metrics.js';
export { HealthMonitor, type CheckOptions, type ComponentHealth, type HealthCheck, type HealthMonitorOptions, type HealthReport, type HealthTimers, type RuntimeHealthFeed, type TransitionListener } from './health.js';
export { RequestTracing, requestStartChannel, scopeOf, type RequestStartEvent, type TracingOptions } from './tracing.js';
export { RequestLogging, type RequestLoggingOptions } from './request-log.js';
export { currentScope, currentTraceparent, parseTraceparent, newSpanId, newTraceId, requestScope, type RequestScope, type TraceParent } from './scope.js';
export { DEFAULT_REDACT_KEYS, KeyMatcher, REDACTED, Scrubber, redactObject, type ScrubberOptions } from './redact.js';
export { obsChannels, type AlertDeliveryEvent, type HealthEvent, type HealthStatus, type ReadinessEvent } from './events.js';
export { mountObservability, type ObservabilityDeps } from './mount.js';
export { createObservability, type Observability, type ObservabilityOptions } from './observability.js';
export * from './alerts/index.js';
