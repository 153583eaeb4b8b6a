package dev.onceflow.engine;

import org.jspecify.annotations.Nullable;

/** Keys and ids as they may be logged: control characters escaped, length capped. */
final class LogSafe {
  private static final int MAX = 200;

  private LogSafe() {}

  static String key(@Nullable String key) {
    if (key == null) {
      return "<none>";
    }
    StringBuilder b = new StringBuilder(Math.min(key.length(), MAX) + 8);
    int n = Math.min(key.length(), MAX);
    for (int i = 0; i < n; i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (key.length() > MAX) {
      b.append("...(").append(key.length()).append(" chars)");
    }
    return b.toString();
  }
}
