package dev.onceflow.redis.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The operations waiting for one server (the standalone server, or one Cluster primary). A batch
 * leaves at once when none is in flight, so a lone call is not delayed; while one is in flight, a
 * second leaves only when at least {@code minFill} operations wait; otherwise they wait for a reply
 * and leave together (up to {@code batchSize} per call). Never blocks: the drain loop runs on
 * whichever thread submits or receives a reply, one at a time.
 */
final class OpQueue {

  final @Nullable String nodeId;
  final AtomicInteger inFlight = new AtomicInteger();
  private final Dispatcher dispatcher;
  private final Queue<Op<?>> ops = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger wip = new AtomicInteger();

  OpQueue(Dispatcher dispatcher, @Nullable String nodeId) {
    this.dispatcher = dispatcher;
    this.nodeId = nodeId;
  }

  void offer(Op<?> op) {
    ops.offer(op);
    queued.incrementAndGet();
    if (!Coalescing.defer(this)) {
      drain();
    }
  }

  int queued() {
    return queued.get();
  }

  void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      for (; ; ) {
        int flying = inFlight.get();
        int waiting = queued.get();
        if (waiting == 0
            || flying >= dispatcher.maxInFlight
            || (flying > 0 && waiting < dispatcher.minFill)) {
          break;
        }
        List<Op<?>> batch = poll();
        if (!batch.isEmpty()) {
          inFlight.incrementAndGet();
          dispatcher.send(this, batch);
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private List<Op<?>> poll() {
    int max = dispatcher.batchSize;
    List<Op<?>> batch = new ArrayList<>(Math.min(max, Math.max(queued.get(), 1)));
    Op<?> op;
    while (batch.size() < max && (op = ops.poll()) != null) {
      queued.decrementAndGet();
      if (!op.isCancelled()) {
        batch.add(op);
      }
    }
    return batch;
  }
}
