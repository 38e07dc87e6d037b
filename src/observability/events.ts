/**
 * Events that observability itself publishes, on node:diagnostics_channel like the runtime's
 * (src/runtime/events.ts): health transitions and alert deliveries. Metrics, the alert wiring and
 * the dashboard subscribe to them, so the health monitor and the alert manager know nothing of
 * their consumers.
 */
import { channel, type Channel } from 'node:diagnostics_channel';

/** Health status of a checked component. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** A component's health changed (published by HealthMonitor). */
export interface HealthEvent {
  component: string;
  from: HealthStatus;
  to: HealthStatus;
  /** Whether an unhealthy state of this component makes the node not ready. */
  critical: boolean;
  consecutiveFailures: number;
  error?: string;
}

/** Readiness changed (published by HealthMonitor). */
export interface ReadinessEvent {
  ready: boolean;
  reasons: string[];
}

/** One alert delivery outcome on one channel (published by AlertManager). */
export interface AlertDeliveryEvent {
  /** The channel name from configuration, or `-` for outcomes decided before routing. */
  channel: string;
  severity: 'critical' | 'warning' | 'info';
  outcome: 'sent' | 'failed' | 'suppressed' | 'dropped';
  /** Attempts made on this channel (0 for suppressed and dropped). */
  attempts: number;
  durationMs: number;
}

/** The channels, typed. */
export const obsChannels = {
  health: channel('andon:health') as Channel & { publish(e: HealthEvent): void },
  readiness: channel('andon:readiness') as Channel & { publish(e: ReadinessEvent): void },
  alert: channel('andon:alert') as Channel & { publish(e: AlertDeliveryEvent): void },
};
