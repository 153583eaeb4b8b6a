package dev.onceflow.redis.internal;

import java.util.ArrayList;

/**
 * Batches fill under a real pipeline: while a thread hands out the replies of one batch, the
 * operations those replies trigger (a completion after an acquisition, the next message's
 * acquisition) only queue; the queues they went to are drained once the whole reply has been handed
 * out, so that they leave together.
 */
final class Coalescing {

  private static final ThreadLocal<Coalescing> CURRENT = ThreadLocal.withInitial(Coalescing::new);

  private final ArrayList<OpQueue> deferred = new ArrayList<>(4);
  private int depth;

  private Coalescing() {}

  static Coalescing enter() {
    Coalescing c = CURRENT.get();
    c.depth++;
    return c;
  }

  /** Ends a hand-out; the outermost one drains the queues that were deferred. */
  void exit() {
    if (--depth > 0) {
      return;
    }
    depth++;
    try {
      while (!deferred.isEmpty()) {
        deferred.remove(deferred.size() - 1).drain();
      }
    } finally {
      depth--;
    }
  }

  /** Defers draining {@code q} when this thread is handing out replies; false otherwise. */
  static boolean defer(OpQueue q) {
    Coalescing c = CURRENT.get();
    if (c.depth == 0) {
      return false;
    }
    c.add(q);
    return true;
  }

  void add(OpQueue q) {
    if (!deferred.contains(q)) {
      deferred.add(q);
    }
  }
}
