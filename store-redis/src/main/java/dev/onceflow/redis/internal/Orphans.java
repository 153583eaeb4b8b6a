package dev.onceflow.redis.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;

/**
 * Leases nobody holds: an {@code acquire} whose reply never came (timed out, connection lost) may
 * have been granted on the server; one that was cancelled after it was sent may have been granted
 * too. Such tokens are released by compare-and-set (harmless when they were never granted) as soon
 * as Redis answers again, so that an outage does not strand keys for a whole lease. A release that
 * fails is kept and tried again; at most {@value #MAX} are kept (the oldest go first: their leases
 * expire by themselves).
 */
public final class Orphans {

  static final int MAX = 100_000;

  /** Releases sent per round at most. */
  private static final int ROUND = 1024;

  private static final Logger log = LoggerFactory.getLogger(Orphans.class);

  private record Entry(String namespace, String key, byte[] redisKey, byte[] token) {}

  private final Queue<Entry> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicBoolean overflowLogged = new AtomicBoolean();
  private final Dispatcher dispatcher;

  Orphans(Dispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  /** How many tokens wait to be released (for tests and diagnostics). */
  public int size() {
    return size.get() + pending.get();
  }

  void add(AcquireOp op) {
    add(op.namespace, op.key, op.redisKey, op.token);
  }

  void add(String namespace, String key, byte[] redisKey, byte[] token) {
    if (size.incrementAndGet() > MAX && queue.poll() != null) {
      size.decrementAndGet();
      if (overflowLogged.compareAndSet(false, true)) {
        log.warn(
            "Redis store: more than {} unanswered acquisitions wait to be released; the oldest"
                + " are left to expire with their lease",
            MAX);
      }
    }
    queue.offer(new Entry(namespace, key, redisKey, token));
  }

  /** A lease granted to a cancelled caller: released at once. */
  void releaseNow(AcquireOp op) {
    send(new Entry(op.namespace, op.key, op.redisKey, op.token));
  }

  /** Sends a round of releases unless one is still on its way. */
  void flush() {
    if (size.get() == 0 || pending.get() > 0) {
      return;
    }
    Entry e;
    for (int i = 0; i < ROUND && (e = queue.poll()) != null; i++) {
      size.decrementAndGet();
      send(e);
    }
  }

  private void send(Entry e) {
    pending.incrementAndGet();
    Done done = new Done();
    Op<Boolean> op = LeaseOp.release(done, e.namespace, e.key, e.redisKey, e.token);
    done.onSubscribe(op);
    dispatcher.submit(op);
  }

  /** Counts a release as done whatever its answer; a failed one was kept again by its op. */
  private final class Done implements CoreSubscriber<Boolean> {
    private boolean terminated;

    @Override
    public void onSubscribe(Subscription s) {
      s.request(1);
    }

    @Override
    public void onNext(Boolean released) {
      finish();
    }

    @Override
    public void onError(Throwable t) {
      finish();
    }

    @Override
    public void onComplete() {
      finish();
    }

    private void finish() {
      if (!terminated) {
        terminated = true;
        pending.decrementAndGet();
      }
    }
  }
}
