package dev.onceflow.outcome;

/**
 * A snapshot of a pipeline's counts since it was built. At every moment {@code delivered ==
 * processed + duplicates + deadLettered + nacked + inFlight}: every delivery is accounted for.
 */
public record Ledger(
    long delivered,
    long processed,
    long duplicates,
    long deadLettered,
    long nacked,
    long inFlight) {

  /** Whether every delivery is accounted for. */
  public boolean balanced() {
    return delivered == processed + duplicates + deadLettered + nacked + inFlight;
  }

  @Override
  public String toString() {
    return "delivered="
        + delivered
        + " processed="
        + processed
        + " duplicates="
        + duplicates
        + " deadLettered="
        + deadLettered
        + " nacked="
        + nacked
        + " inFlight="
        + inFlight;
  }
}
