package dev.onceflow.test;

import dev.onceflow.outcome.Ledger;

/** Assertions on a pipeline's {@link Ledger}. */
public final class Ledgers {
  private Ledgers() {}

  /**
   * Throws an {@link AssertionError} unless the ledger balances with nothing in flight and the
   * given counts.
   */
  public static void assertSettled(
      Ledger ledger, long processed, long duplicates, long deadLettered) {
    if (!ledger.balanced()
        || ledger.inFlight() != 0
        || ledger.processed() != processed
        || ledger.duplicates() != duplicates
        || ledger.deadLettered() != deadLettered) {
      throw new AssertionError(
          "expected processed="
              + processed
              + " duplicates="
              + duplicates
              + " deadLettered="
              + deadLettered
              + " and nothing in flight, but was "
              + ledger);
    }
  }
}
