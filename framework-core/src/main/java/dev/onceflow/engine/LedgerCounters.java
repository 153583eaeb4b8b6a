package dev.onceflow.engine;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import java.util.concurrent.atomic.LongAdder;

/** The ledger's counts since the pipeline was built; each delivery is counted once. */
final class LedgerCounters {
  private final LongAdder delivered = new LongAdder();
  private final LongAdder processed = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder nacked = new LongAdder();

  void delivered() {
    delivered.increment();
  }

  /** Counts {@code o} for {@code f} unless {@code f} was counted already. */
  boolean count(InFlight f, Outcome<?> o) {
    if (!f.counted.compareAndSet(false, true)) {
      return false;
    }
    if (o instanceof Outcome.Processed) {
      processed.increment();
    } else if (o instanceof Outcome.Duplicate) {
      duplicates.increment();
    } else if (o instanceof Outcome.DeadLettered) {
      deadLettered.increment();
    } else {
      nacked.increment();
    }
    return true;
  }

  /** Deliveries received and not yet settled; the in-flight gauge reads it. */
  double inFlight() {
    return ledger().inFlight();
  }

  Ledger ledger() {
    // The outcome counters first, then `delivered`: a concurrent delivery can only make in-flight
    // look larger, never negative.
    long p = processed.sum();
    long du = duplicates.sum();
    long dl = deadLettered.sum();
    long n = nacked.sum();
    long d = delivered.sum();
    return new Ledger(d, p, du, dl, n, d - p - du - dl - n);
  }
}
