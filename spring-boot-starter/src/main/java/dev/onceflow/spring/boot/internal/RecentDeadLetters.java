package dev.onceflow.spring.boot.internal;

import dev.onceflow.spring.boot.DeadLetterCounts;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Counts dead letters per reason in one-minute buckets over the last hour. Thread-safe; the lock is
 * held for a few array operations.
 */
public final class RecentDeadLetters {

  private static final int MINUTES = 60;

  private final Clock clock;
  private final long[] minuteOfBucket = new long[MINUTES];

  private final List<Map<String, Long>> buckets = new ArrayList<>(MINUTES);

  private long total;
  private @Nullable Instant last;

  public RecentDeadLetters(Clock clock) {
    this.clock = clock;
    for (int i = 0; i < MINUTES; i++) {
      minuteOfBucket[i] = -1;
      buckets.add(new TreeMap<>());
    }
  }

  /** Counts one dead letter of {@code reason} now. */
  public synchronized void record(String reason) {
    Instant now = clock.instant();
    long minute = now.getEpochSecond() / 60;
    int i = (int) (minute % MINUTES);
    if (minuteOfBucket[i] != minute) {
      minuteOfBucket[i] = minute;
      buckets.get(i).clear();
    }
    buckets.get(i).merge(reason, 1L, Long::sum);
    total++;
    last = now;
  }

  /** The counts now. */
  public synchronized DeadLetterCounts counts() {
    long minute = clock.instant().getEpochSecond() / 60;
    Map<String, Long> byReason = new TreeMap<>();
    long lastHour = 0;
    for (int i = 0; i < MINUTES; i++) {
      if (minuteOfBucket[i] > minute - MINUTES && minuteOfBucket[i] <= minute) {
        for (Map.Entry<String, Long> e : buckets.get(i).entrySet()) {
          byReason.merge(e.getKey(), e.getValue(), Long::sum);
          lastHour += e.getValue();
        }
      }
    }
    return new DeadLetterCounts(total, lastHour, byReason, last);
  }
}
