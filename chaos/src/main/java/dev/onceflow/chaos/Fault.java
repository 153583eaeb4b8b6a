package dev.onceflow.chaos;

import java.time.Duration;

/**
 * A fault the suite injected.
 *
 * @param kind what was done
 * @param start {@link System#nanoTime()} when it began
 * @param end when it ended (the same as start for a kill)
 * @param pid the process it hit, or -1 when it hit the store
 * @param recoveryBound the longest recovery accepted after it (see {@link Checker})
 */
public record Fault(Kind kind, long start, long end, long pid, Duration recoveryBound) {

  /** The kinds of fault. */
  public enum Kind {
    /** A consumer was killed with SIGKILL. */
    KILL,
    /** A consumer halted itself at a crash point ({@code --crash-at}). */
    CRASH_POINT,
    /** Redis was stopped (SIGSTOP) and resumed (SIGCONT). */
    REDIS_PAUSE,
    /** Redis was killed (SIGKILL) and restarted from its AOF. */
    REDIS_RESTART,
    /** The Redis primary was killed and Sentinel promoted its replica. */
    FAILOVER;

    /** Whether the fault hit the store (every consumer) rather than one process. */
    public boolean hitsStore() {
      return this == REDIS_PAUSE || this == REDIS_RESTART || this == FAILOVER;
    }
  }
}
