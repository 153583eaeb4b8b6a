package dev.onceflow.kafka.internal;

import java.util.ArrayDeque;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The acknowledgements of one partition, in delivery order: records complete out of order, but the
 * offset to commit only ever moves over a prefix of records that are all acknowledged. A record
 * that is not acknowledged (in flight, nacked, waiting for redelivery) holds the commit back, so a
 * committed offset never passes an unfinished record.
 *
 * <p>Offsets need not be contiguous (compaction and transaction markers leave gaps): the order is
 * the order in which records were {@linkplain #add added}, and {@link #add} rejects an offset that
 * is not above the last one.
 *
 * <p>Not thread-safe: the caller serializes access.
 *
 * @param <T> what the caller attaches to each record
 */
public final class PartitionAcks<T> {

  /** One record of the partition. */
  public static final class Entry<T> {
    private final PartitionAcks<T> owner;
    private final long offset;
    private final T value;
    private boolean acked;

    private Entry(PartitionAcks<T> owner, long offset, T value) {
      this.owner = owner;
      this.offset = offset;
      this.value = value;
    }

    public long offset() {
      return offset;
    }

    public T value() {
      return value;
    }

    /** The tracker this entry belongs to. */
    public PartitionAcks<T> owner() {
      return owner;
    }

    public boolean acked() {
      return acked;
    }
  }

  private final ArrayDeque<Entry<T>> pending = new ArrayDeque<>();
  private long lastAdded = -1;
  private long commitOffset = -1;

  /**
   * Tracks the next record of the partition.
   *
   * @throws IllegalStateException if {@code offset} is not above the last added offset
   */
  public Entry<T> add(long offset, T value) {
    Objects.requireNonNull(value, "value");
    if (offset <= lastAdded) {
      throw new IllegalStateException(
          "offsets of a partition must increase, but "
              + offset
              + " came after "
              + lastAdded
              + " (was the consumer repositioned?)");
    }
    lastAdded = offset;
    Entry<T> e = new Entry<>(this, offset, value);
    pending.addLast(e);
    return e;
  }

  /**
   * Marks a record acknowledged.
   *
   * @return the last record of the prefix of acknowledged records this call completed: committing
   *     its offset + 1 is safe; null when the commit position did not move (an earlier record is
   *     unfinished, or the entry was already acknowledged)
   * @throws IllegalArgumentException if the entry belongs to another tracker
   */
  public @Nullable Entry<T> ack(Entry<T> entry) {
    if (entry.owner != this) {
      throw new IllegalArgumentException(
          "entry of offset " + entry.offset + " is not tracked here");
    }
    if (entry.acked) {
      return null;
    }
    entry.acked = true;
    Entry<T> last = null;
    while (!pending.isEmpty() && pending.peekFirst().acked) {
      last = pending.pollFirst();
    }
    if (last != null) {
      commitOffset = last.offset + 1;
    }
    return last;
  }

  /** The offset that is safe to commit (last fully acknowledged offset + 1), or -1 if none yet. */
  public long commitOffset() {
    return commitOffset;
  }

  /** The lowest offset not yet acknowledged, or -1 when every tracked record is. */
  public long lowestUnacked() {
    Entry<T> first = pending.peekFirst();
    return first == null ? -1 : first.offset;
  }

  /** Records tracked and not yet behind the commit position. */
  public int pending() {
    return pending.size();
  }
}
