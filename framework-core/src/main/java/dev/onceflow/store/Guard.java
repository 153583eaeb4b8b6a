package dev.onceflow.store;

/**
 * A monotonic guard on a key, for the version-guard and producer-sequence strategies: the store
 * keeps the highest value completed under the key and answers {@link AcquireResult.Completed} (a
 * stale duplicate) for any value lower than or equal to it.
 *
 * @param value the message's version or sequence number
 * @param contiguous when true (producer sequences) only {@code highest + 1} is granted; a value
 *     further ahead answers {@link AcquireResult.InProgress} until the gap is filled, so that
 *     sequence numbers complete in order
 */
public record Guard(long value, boolean contiguous) {

  public static Guard version(long version) {
    return new Guard(version, false);
  }

  public static Guard sequence(long sequence) {
    return new Guard(sequence, true);
  }
}
