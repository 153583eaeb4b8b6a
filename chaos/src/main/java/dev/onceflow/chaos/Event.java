package dev.onceflow.chaos;

import org.jspecify.annotations.Nullable;

/**
 * One line of a consumer's event log: {@code <nanoTime> <pid> <type> <id> <key> <fence> <detail>},
 * tab-separated, {@code -} for a missing value (see the CLI's {@code EventLog}).
 *
 * @param t {@link System#nanoTime()} of the consumer when the step happened (machine-wide clock)
 * @param pid the consumer's process id
 * @param type delivered, acquired, started, finished, dead-lettered, recorded, acked, nacked,
 *     crash, start, stop
 * @param id the message id, or null
 * @param key the deduplication key, or null
 * @param fence the fencing number, or -1
 * @param detail the event's detail ({@code -} when none)
 * @param seq the line's position in its file, to order events of one process with equal times
 */
public record Event(
    long t,
    long pid,
    String type,
    @Nullable String id,
    @Nullable String key,
    long fence,
    String detail,
    long seq) {

  /**
   * Parses a line, or returns null when it is not a whole event line (the truncated last line of a
   * killed consumer).
   */
  public static @Nullable Event parse(String line, long seq) {
    String[] f = line.split("\t", -1);
    if (f.length != 7 || f[6].isEmpty()) {
      return null;
    }
    try {
      return new Event(
          Long.parseLong(f[0]),
          Long.parseLong(f[1]),
          f[2],
          dash(f[3]),
          dash(f[4]),
          "-".equals(f[5]) ? -1 : Long.parseLong(f[5]),
          f[6],
          seq);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static @Nullable String dash(String s) {
    return "-".equals(s) ? null : s;
  }

  /** Renders the event as a log line (for hand-made histories in tests). */
  public String line() {
    return t
        + "\t"
        + pid
        + "\t"
        + type
        + "\t"
        + (id == null ? "-" : id)
        + "\t"
        + (key == null ? "-" : key)
        + "\t"
        + (fence < 0 ? "-" : Long.toString(fence))
        + "\t"
        + detail;
  }
}
