package dev.onceflow.redis.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Coalesces concurrent calls into batches: while {@code maxInFlight} batches await their reply, new
 * calls queue up, and each reply lets the next batch (up to {@code batchSize} calls) go. Under
 * light load a call goes out at once, alone; under load hundreds share one round trip. Never
 * blocks: the drain loop runs on whichever thread submits or receives a reply, one at a time.
 *
 * @param <P> a pending call
 */
public final class Batcher<P extends Batcher.Item> {

  /** A queued call. */
  public interface Item {
    /** True when nobody waits for the answer any more: the call is dropped before it is sent. */
    boolean cancelled();
  }

  private final Queue<P> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final int batchSize;
  private final int maxInFlight;
  private final Function<List<P>, CompletionStage<?>> sender;
  private final Runnable flush;

  /**
   * @param sender sends one batch and completes its items; the returned stage completes when the
   *     reply (or failure) arrived. Must not throw.
   * @param flush flushes what the sender wrote, once per drain pass
   */
  public Batcher(
      int batchSize,
      int maxInFlight,
      Function<List<P>, CompletionStage<?>> sender,
      Runnable flush) {
    this.batchSize = batchSize;
    this.maxInFlight = maxInFlight;
    this.sender = sender;
    this.flush = flush;
  }

  public void submit(P item) {
    queue.offer(item);
    drain();
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    for (; ; ) {
      boolean sent = false;
      while (inFlight.get() < maxInFlight) {
        List<P> batch = poll();
        if (batch == null) {
          break;
        }
        inFlight.incrementAndGet();
        sent = true;
        CompletionStage<?> reply;
        try {
          reply = sender.apply(batch);
        } catch (RuntimeException e) {
          reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete(
            (r, e) -> {
              inFlight.decrementAndGet();
              drain();
            });
      }
      if (sent) {
        flush.run();
      }
      missed = wip.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  private List<P> poll() {
    List<P> batch = null;
    P p;
    while ((batch == null || batch.size() < batchSize) && (p = queue.poll()) != null) {
      if (p.cancelled()) {
        continue;
      }
      if (batch == null) {
        batch = new ArrayList<>(Math.min(batchSize, 64));
      }
      batch.add(p);
    }
    return batch;
  }
}
