package dev.onceflow.engine;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.store.Lease;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** One delivery in flight: its key, its lease while held, and whether it was counted. */
final class InFlight {
  final Delivery delivery;
  final AtomicBoolean counted = new AtomicBoolean();

  /** Set when a heartbeat learned that the lease was lost. */
  private volatile boolean lost;

  /** Told when the lease is lost, while a handler runs under it (the fast lane). */
  volatile @Nullable Runnable onLost;

  /** For the slow path's {@code takeUntilOther}: created on demand. */
  private volatile Sinks.@Nullable One<Boolean> lostSignal;

  volatile @Nullable String key;

  /** The lease while it is held: set on ACQUIRED, cleared once the store ended it. */
  volatile @Nullable Lease lease;

  /** Whether the handler runs under the lease, so that the heartbeat extends it. */
  volatile boolean beating;

  /** When the lease is due for extension, in scheduler milliseconds. */
  volatile long nextBeatAt;

  /** The outcome whose ack or nack was sent; a settlement runs to its end even on cancel. */
  volatile @Nullable Outcome<Object> settling;

  InFlight(Delivery delivery) {
    this.delivery = delivery;
  }

  Envelope envelope() {
    return delivery.envelope();
  }

  /** The heartbeat learned that the lease was lost: whoever runs the handler stops it. */
  void lose() {
    lost = true;
    Runnable r = onLost;
    if (r != null) {
      r.run();
    }
    Sinks.One<Boolean> s = lostSignal;
    if (s != null) {
      s.tryEmitValue(Boolean.TRUE);
    }
  }

  /** Emits once the lease is lost (at once if it already was). */
  synchronized Mono<Boolean> lostSignal() {
    Sinks.One<Boolean> s = lostSignal;
    if (s == null) {
      s = Sinks.one();
      lostSignal = s;
    }
    if (lost) {
      s.tryEmitValue(Boolean.TRUE);
    }
    return s.asMono();
  }
}
