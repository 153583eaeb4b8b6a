package dev.onceflow.redis.internal;

import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisCommandExecutionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Sends operations to Redis in batches: one queue per server (see {@link OpQueue}), one call of the
 * server code per batch carrying every kind of operation (acquire, complete, release, extend,
 * find). In a Cluster a batch holds the operations of one primary, whatever their slots; an
 * operation whose slot moved away answers so and is sent again on its own, routed by its keys. When
 * completions must reach replicas, a WAIT follows the call on the same connection and the
 * completions emit only after it.
 */
public final class Dispatcher implements AutoCloseable {

  /** Times one operation is sent again (redirected, re-routed, code reloaded) at most. */
  private static final int MAX_RESENDS = 5;

  private static final byte[] INLINE_KEYS = Ascii.code('@');

  /** Errors Redis answers before it runs the call: nothing of it was applied. */
  private static final List<String> REFUSED =
      List.of(
          "NOSCRIPT",
          "NOPERM",
          "CROSSSLOT",
          "TRYAGAIN",
          "MOVED",
          "ASK",
          "OOM",
          "READONLY",
          "LOADING",
          "BUSY",
          "MASTERDOWN",
          "CLUSTERDOWN",
          "NOAUTH",
          "WRONGPASS",
          "NOREPLICAS",
          "ERR Function not found",
          "ERR unknown command");

  /** Errors after which each operation of a batch is tried on its own. */
  private static final List<String> SPLIT = List.of("NOPERM", "CROSSSLOT", "TRYAGAIN");

  /** An operation's error in Cluster node mode that means: its keys live elsewhere now. */
  private static final List<String> MOVED_AWAY =
      List.of(
          "non local key",
          "do not hash to the same slot",
          "during rehashing",
          "cluster is down",
          "slot not served");

  final int batchSize;
  final int maxInFlight;
  final int minFill;
  private final int waitReplicas;
  private final long waitMillis;
  private final RedisConnections redis;
  private final Orphans orphans;
  private final @Nullable OpQueue standalone;
  private final Map<String, OpQueue> nodes = new ConcurrentHashMap<>();
  private final ScheduledFuture<?> orphanTimer;
  private volatile boolean closed;

  public Dispatcher(RedisConnections redis, RedisStoreOptions options) {
    this.redis = redis;
    this.batchSize = options.batchSize();
    this.maxInFlight = options.maxInFlightBatches();
    this.minFill = Math.max(1, options.batchSize() / 4);
    this.waitReplicas = options.waitForReplicas();
    this.waitMillis = options.waitForReplicasTimeout().toMillis();
    this.orphans = new Orphans(this);
    this.standalone = redis.cluster() ? null : new OpQueue(this, null);
    long every = Math.max(50, Math.min(1_000, options.commandTimeout().toMillis() / 4));
    this.orphanTimer =
        redis
            .resources()
            .eventExecutorGroup()
            .scheduleWithFixedDelay(orphans::flush, every, every, TimeUnit.MILLISECONDS);
  }

  public Orphans orphans() {
    return orphans;
  }

  /** Queues an operation; it is sent with the next batch of its server. */
  public void submit(Op<?> op) {
    if (closed) {
      op.error(new StoreException("Redis store: the store is closed"));
      return;
    }
    if (standalone != null) {
      standalone.offer(op);
      return;
    }
    String node = redis.nodeOf(KeyLayout.slot(op.redisKey));
    if (node == null) {
      sendAlone(op);
      return;
    }
    nodes.computeIfAbsent(node, id -> new OpQueue(this, id)).offer(op);
  }

  void send(OpQueue q, List<Op<?>> batch) {
    CompletableFuture<List<Object>> reply;
    CompletableFuture<Long> acks = null;
    boolean wait = waitReplicas > 0 && anyCompletes(batch);
    try {
      int nk = 0;
      int na = 0;
      for (Op<?> op : batch) {
        nk += op.keyCount();
        na += op.argCount();
      }
      if (q.nodeId == null) {
        byte[][] keys = new byte[nk][];
        byte[][] args = new byte[na][];
        encode(batch, keys, 0, args, 0);
        reply = redis.call(keys, args);
        if (wait) {
          acks = redis.waitForReplicas(null, waitReplicas, waitMillis);
        }
      } else {
        byte[][] args = new byte[2 + nk + na][];
        args[0] = INLINE_KEYS;
        args[1] = Ascii.number(nk);
        encode(batch, args, 2, args, 2 + nk);
        RedisConnections.Call call =
            redis.callNode(q.nodeId, args, wait ? waitReplicas : 0, waitMillis);
        reply = call.reply();
        acks = call.acks();
      }
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Long> a = acks;
    reply.whenComplete((r, e) -> replied(q, batch, r, e, a));
  }

  /** One operation, routed by its keys (Cluster redirections followed by lettuce). */
  private void sendAlone(Op<?> op) {
    List<Op<?>> batch = List.of(op);
    CompletableFuture<List<Object>> reply;
    CompletableFuture<Long> acks = null;
    try {
      byte[][] keys = new byte[op.keyCount()][];
      byte[][] args = new byte[op.argCount()][];
      encode(batch, keys, 0, args, 0);
      reply = redis.call(keys, args);
      if (waitReplicas > 0 && op.completes()) {
        acks =
            redis.waitForReplicas(
                redis.cluster() ? redis.nodeOf(KeyLayout.slot(op.redisKey)) : null,
                waitReplicas,
                waitMillis);
      }
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Long> a = acks;
    reply.whenComplete((r, e) -> replied(null, batch, r, e, a));
  }

  /** An operation that answered it could not run where it was sent. */
  void resend(Op<?> op, Object item) {
    String why = item instanceof List<?> l && l.size() > 1 ? Op.text(l.get(1)) : "";
    if (MOVED_AWAY.stream().noneMatch(why::contains)) {
      op.fail(new StoreException("Redis refused the operation: " + why), true, this);
      return;
    }
    if (++op.resends > MAX_RESENDS) {
      op.fail(new StoreException("its slot kept moving: " + why), false, this);
      return;
    }
    sendAlone(op);
  }

  private static void encode(List<Op<?>> batch, byte[][] keys, int ki, byte[][] args, int ai) {
    for (Op<?> op : batch) {
      op.encodeKeys(keys, ki);
      op.encodeArgs(args, ai);
      ki += op.keyCount();
      ai += op.argCount();
    }
  }

  private static boolean anyCompletes(List<Op<?>> batch) {
    for (Op<?> op : batch) {
      if (op.completes()) {
        return true;
      }
    }
    return false;
  }

  private void replied(
      @Nullable OpQueue q,
      List<Op<?>> batch,
      @Nullable List<Object> reply,
      @Nullable Throwable error,
      @Nullable CompletableFuture<Long> acks) {
    Coalescing c = Coalescing.enter();
    try {
      if (q != null) {
        q.inFlight.decrementAndGet();
        c.add(q);
      }
      if (error != null || reply == null) {
        failed(batch, error == null ? new StoreException("no reply") : error);
        return;
      }
      orphans.flush();
      if (reply.size() != batch.size() + 1 || !(reply.get(0) instanceof Long now)) {
        StoreException e =
            new StoreException(
                "Redis answered " + reply.size() + " values to a batch of " + batch.size());
        batch.forEach(op -> op.fail(e, true, this));
        return;
      }
      List<Op<?>> held = null;
      List<Object> heldItems = null;
      for (int i = 0; i < batch.size(); i++) {
        Op<?> op = batch.get(i);
        Object item = reply.get(i + 1);
        if (acks != null && op.completes() && !Op.elsewhere(item)) {
          if (held == null) {
            held = new ArrayList<>();
            heldItems = new ArrayList<>();
          }
          held.add(op);
          heldItems.add(item);
        } else {
          op.reply(item, now, this);
        }
      }
      if (held != null) {
        List<Op<?>> ops = held;
        List<Object> items = heldItems;
        acks.whenComplete((n, e) -> acknowledged(ops, items, now, n, e));
      }
    } finally {
      c.exit();
    }
  }

  private void acknowledged(
      List<Op<?>> ops,
      List<Object> items,
      long now,
      @Nullable Long replicas,
      @Nullable Throwable error) {
    Coalescing c = Coalescing.enter();
    try {
      for (int i = 0; i < ops.size(); i++) {
        Op<?> op = ops.get(i);
        Object item = items.get(i);
        if (error == null && replicas != null && replicas >= waitReplicas) {
          op.reply(item, now, this);
        } else if (item instanceof Long l && l == 0L) {
          op.reply(item, now, this); // nothing was written: nothing to wait for
        } else {
          op.fail(
              new StoreException(
                  "written on the primary, but "
                      + (error != null
                          ? "WAIT failed: " + RedisConnections.unwrap(error)
                          : "only "
                              + replicas
                              + " of "
                              + waitReplicas
                              + " replicas acknowledged it within "
                              + Duration.ofMillis(waitMillis))),
              true,
              this);
        }
      }
    } finally {
      c.exit();
    }
  }

  private void failed(List<Op<?>> batch, Throwable error) {
    Throwable t = RedisConnections.unwrap(error);
    String message =
        t instanceof RedisCommandExecutionException ? String.valueOf(t.getMessage()) : "";
    boolean refused = REFUSED.stream().anyMatch(message::startsWith);
    if (refused && RedisConnections.missingCode(t)) {
      redis.load().whenComplete((x, e) -> resendAll(batch, e == null ? t : e));
      return;
    }
    if (refused
        && redis.cluster()
        && (message.startsWith("READONLY")
            || message.startsWith("MOVED")
            || message.startsWith("CLUSTERDOWN"))) {
      redis.refreshTopology().whenComplete((x, e) -> resendAll(batch, t));
      return;
    }
    if (refused && batch.size() > 1 && SPLIT.stream().anyMatch(message::startsWith)) {
      batch.forEach(this::sendAlone);
      return;
    }
    if (refused && message.startsWith("TRYAGAIN") && batch.get(0).resends++ < MAX_RESENDS) {
      redis
          .resources()
          .eventExecutorGroup()
          .schedule(() -> sendAlone(batch.get(0)), 50, TimeUnit.MILLISECONDS);
      return;
    }
    for (Op<?> op : batch) {
      op.fail(t, !refused, this);
    }
  }

  private void resendAll(List<Op<?>> batch, Throwable cause) {
    Coalescing c = Coalescing.enter();
    try {
      for (Op<?> op : batch) {
        if (op.isCancelled()) {
          continue;
        }
        if (++op.resends > MAX_RESENDS) {
          op.fail(cause, false, this);
        } else {
          submit(op);
        }
      }
    } finally {
      c.exit();
    }
  }

  /** A failure of an operation, as the store signals it. */
  RuntimeException failure(Op<?> op, Throwable e) {
    Throwable t = RedisConnections.unwrap(e);
    if (t instanceof StoreException s
        && s.getMessage() != null
        && s.getMessage().startsWith("Redis store:")) {
      return s;
    }
    if (t instanceof IllegalArgumentException i) {
      return i;
    }
    return new StoreException(
        "Redis store: "
            + op.operation()
            + " of key '"
            + op.key
            + "' in namespace '"
            + op.namespace
            + "' failed: "
            + t.getClass().getSimpleName()
            + ": "
            + t.getMessage(),
        t);
  }

  @Override
  public void close() {
    closed = true;
    orphanTimer.cancel(false);
  }
}
