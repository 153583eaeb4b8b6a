package dev.onceflow.kafka.internal;

import java.util.concurrent.atomic.AtomicLong;

/** Counts of a Kafka source over all its subscriptions, for tests and diagnostics. Thread-safe. */
public final class SourceCounters {

  final AtomicLong polled = new AtomicLong();
  final AtomicLong delivered = new AtomicLong();
  final AtomicLong redelivered = new AtomicLong();
  final AtomicLong acked = new AtomicLong();
  final AtomicLong nacked = new AtomicLong();
  final AtomicLong commitsRequested = new AtomicLong();
  final AtomicLong staleDropped = new AtomicLong();
  final AtomicLong settledAfterRevocation = new AtomicLong();
  final AtomicLong held = new AtomicLong();
  final AtomicLong maxHeld = new AtomicLong();

  /** Records returned by the consumer's polls. */
  public long polled() {
    return polled.get();
  }

  /** Deliveries emitted downstream, redeliveries included. */
  public long delivered() {
    return delivered.get();
  }

  /** Deliveries emitted again after a nack. */
  public long redelivered() {
    return redelivered.get();
  }

  public long acked() {
    return acked.get();
  }

  public long nacked() {
    return nacked.get();
  }

  /** How often the commit position of a partition moved forward. */
  public long commitsRequested() {
    return commitsRequested.get();
  }

  /**
   * Records polled before their partition was revoked that reached the source afterwards: dropped,
   * the partition's next owner fetches them again.
   */
  public long staleDropped() {
    return staleDropped.get();
  }

  /** Acks and nacks of records whose partition was revoked (or whose consumer closed) meanwhile. */
  public long settledAfterRevocation() {
    return settledAfterRevocation.get();
  }

  /** Records received and not yet finished: ready, in flight or waiting for redelivery. */
  public long held() {
    return held.get();
  }

  /** The highest {@link #held()} seen: checks the in-flight bound. */
  public long maxHeld() {
    return maxHeld.get();
  }

  @Override
  public String toString() {
    return "polled="
        + polled
        + " delivered="
        + delivered
        + " redelivered="
        + redelivered
        + " acked="
        + acked
        + " nacked="
        + nacked
        + " staleDropped="
        + staleDropped
        + " settledAfterRevocation="
        + settledAfterRevocation
        + " held="
        + held
        + " maxHeld="
        + maxHeld;
  }
}
