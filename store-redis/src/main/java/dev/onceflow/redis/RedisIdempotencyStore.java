package dev.onceflow.redis;

import dev.onceflow.redis.internal.Batcher;
import dev.onceflow.redis.internal.KeyLayout;
import dev.onceflow.redis.internal.RedisConnections;
import dev.onceflow.redis.internal.Scripts;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The Redis {@link IdempotencyStore}, over lettuce: the same semantics as the in-memory reference
 * store, each operation one Lua script run atomically by Redis.
 *
 * <h2>Keys</h2>
 *
 * For message key {@code k} in namespace {@code ns} (prefix from {@link
 * RedisStoreOptions#keyPrefix()}, default {@code onceflow}):
 *
 * <ul>
 *   <li>{@code <prefix>:<ns>:{k}:l} — the lease, a string {@code <expiresAtMs>:<token>:<owner>} set
 *       with PXAT: Redis itself drops an expired lease.
 *   <li>{@code <prefix>:<ns>:{k}:f} — the fence, {@code <fence>:<keepUntilMs>}, set with PXAT
 *       keepUntil: at least {@link AcquireRequest#retention()} plus the lease after the last grant,
 *       and at least as long as the record and the lease. So the fence grows across lease expiry.
 *   <li>{@code <prefix>:<ns>:{k}:r} — the record, {@code
 *       <P|D>|<completedAtMs>|<fence>|<guard>|<fingerprintLength>|<fingerprint><R result|N>}, set
 *       with PXAT at the end of the completion's retention: Redis drops expired records (and with
 *       them the guard value).
 * </ul>
 *
 * The braces are a Cluster hash tag, so every key of one message lives in one slot. A key that is
 * empty or starts with {@code '}'} or {@code '~'} is written as {@code ~k} inside the braces (an
 * injective encoding that keeps the tag non-empty). Namespaces must not contain braces. An ACL rule
 * {@code ~<prefix>:<ns>:*} confines a Redis user to one pipeline's keys.
 *
 * <h2>Clock</h2>
 *
 * Lease expiry, record retention and completion times are on the Redis server's clock: every script
 * reads {@code TIME}. Consumers with skewed clocks therefore agree on when a lease expired. {@link
 * Lease#expiresAt()}, {@link AcquireResult.InProgress#leaseExpiresAt()} and {@link
 * OutcomeRecord#completedAt()} are server times. Needs Redis 6.2+ (PXAT, effect replication of
 * scripts).
 *
 * <h2>Transactional effects</h2>
 *
 * {@link Effect}s of a {@link Completion} run inside the completion script, after the script
 * checked that the token still owns the lease and that every effect can be applied (key types,
 * integer values), so that either all effects and the record are written or nothing is. Effect key
 * {@code e} maps to the Redis key {@code <prefix>:<ns>:e}. An effect key starting with <code>
 * '&#123;'</code> is refused (that shape is reserved for the store's own keys). In a Cluster, an
 * effect key must hash to the message key's slot, or the completion fails with {@link
 * EffectRejectedException} before anything is sent; {@link #colocated(String, String)} names such a
 * key (e.g. {@code colocated("totals", msg.key())} is {@code totals:{<key>}}). An effect Redis
 * would refuse (wrong type, a non-integer to increment) fails the completion with {@link
 * EffectRejectedException} and writes nothing. Increment overflow is not pre-checked.
 *
 * <h2>Batching and threading</h2>
 *
 * Concurrent {@code acquire} calls are coalesced: while {@link
 * RedisStoreOptions#maxInFlightBatches()} batches await their reply, new calls queue and go out
 * together, up to {@link RedisStoreOptions#batchSize()} per script call (in a Cluster, one call per
 * slot, pipelined and flushed together). {@code complete} is batched the same way. No method blocks
 * except {@link #create(RedisStoreOptions)}; results are emitted on lettuce's I/O threads. Every
 * method builds its command per subscription, so a re-subscription re-sends it; cancelling before
 * the batch is sent drops the call.
 *
 * <h2>Errors</h2>
 *
 * Timeouts ({@link RedisStoreOptions#commandTimeout()}), a lost connection, ACL refusals ({@code
 * NOPERM}) and other Redis errors are signalled as {@link StoreException}: the caller cannot tell
 * whether the operation happened. Standalone and Sentinel connections reject calls at once while
 * disconnected (lettuce reconnects in the background); in a Cluster, where node connections open
 * lazily, a call to an unreachable node fails after the command timeout. Cluster redirections
 * (MOVED/ASK) are followed by lettuce. Scripts are loaded once at {@link #create}; a server that
 * lost them (restart, failover, SCRIPT FLUSH) gets them again through EVAL on the first NOSCRIPT.
 * Programming errors are not store errors: a namespace with braces fails with {@link
 * IllegalArgumentException}, a refused effect with {@link EffectRejectedException}.
 *
 * <h2>Operations</h2>
 *
 * Durability is Redis's: a failover with asynchronous replication can lose an acknowledged lease or
 * record (a duplicate may then be processed again); {@code min-replicas-to-write} and {@code
 * appendfsync always} narrow that window. Every key the store writes has a TTL, so a {@code
 * volatile-*} or {@code allkeys-*} eviction policy can drop records and fences early: run the
 * store's Redis with {@code maxmemory-policy noeviction}.
 */
public final class RedisIdempotencyStore implements IdempotencyStore, AutoCloseable {

  private static final int ACQUIRE_ARGS = 5;
  private static final byte[] ONE = {'1'};
  private static final byte[] ZERO = {'0'};
  private static final byte[] EMPTY = {};

  /** About 300 years: durations beyond it are capped (Lua numbers are exact below 2^53). */
  private static final long MAX_MILLIS = 10_000_000_000_000L;

  private final RedisStoreOptions options;
  private final RedisConnections redis;
  private final KeyLayout keys;
  private final Batcher<PendingAcquire> acquires;
  private final Batcher<PendingComplete> completes;

  private RedisIdempotencyStore(RedisStoreOptions options, RedisConnections redis) {
    this.options = options;
    this.redis = redis;
    this.keys = new KeyLayout(options.keyPrefix());
    this.acquires =
        new Batcher<>(
            options.batchSize(), options.maxInFlightBatches(), this::sendAcquires, redis::flush);
    this.completes =
        new Batcher<>(
            options.batchSize(), options.maxInFlightBatches(), this::sendCompletes, redis::flush);
  }

  /**
   * Connects to Redis and loads the scripts. Blocks until connected (at most the connect timeout
   * plus the command timeout): call it at startup, not on a non-blocking thread.
   *
   * @throws StoreException when Redis cannot be reached or refuses the credentials
   */
  public static RedisIdempotencyStore create(RedisStoreOptions options) {
    Objects.requireNonNull(options, "options");
    RedisConnections redis;
    try {
      redis = RedisConnections.connect(options);
    } catch (RuntimeException e) {
      throw new StoreException("cannot connect to Redis (" + options + "): " + e.getMessage(), e);
    }
    try {
      for (Scripts s : Scripts.values()) {
        redis
            .single()
            .scriptLoad(s.source())
            .get(options.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (ExecutionException | TimeoutException e) {
      redis.close();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new StoreException(
          "cannot load the store's scripts into Redis (" + options + "): " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      redis.close();
      throw new StoreException("interrupted while loading the store's scripts", e);
    }
    return new RedisIdempotencyStore(options, redis);
  }

  /** The options this store was created with. */
  public RedisStoreOptions options() {
    return options;
  }

  /**
   * An effect key that lives in the Cluster slot of {@code messageKey}: {@code name:{<key>}}. Works
   * in every topology (and in the in-memory store, as a plain name).
   *
   * @param name the effect's name; not empty, without braces
   */
  public static String colocated(String name, String messageKey) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(messageKey, "messageKey");
    if (name.isEmpty() || name.indexOf('{') >= 0 || name.indexOf('}') >= 0) {
      throw new IllegalArgumentException(
          "`name` must be non-empty and without braces, but was '" + name + "'");
    }
    return name + ":{" + KeyLayout.tag(messageKey) + "}";
  }

  /** The Redis key an effect key of a namespace is written to. */
  public String redisKeyOfEffect(String namespace, String effectKey) {
    return keys.effectKey(namespace, effectKey);
  }

  // ------------------------------------------------------------------ acquire

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest request) {
    Objects.requireNonNull(request, "request");
    return Mono.create(
        sink -> {
          try {
            KeyLayout.checkNamespace(request.namespace());
          } catch (IllegalArgumentException e) {
            sink.error(e);
            return;
          }
          PendingAcquire p = new PendingAcquire(request, newToken(), sink);
          sink.onCancel(p::cancel);
          acquires.submit(p);
        });
  }

  private static String newToken() {
    // Unique per grant, not a secret: ownership is only ever compared, never guessed at.
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return new java.util.UUID(r.nextLong(), r.nextLong()).toString();
  }

  private abstract static class Pending<T> implements Batcher.Item {
    final MonoSink<T> sink;
    private volatile boolean cancelled;

    Pending(MonoSink<T> sink) {
      this.sink = sink;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public boolean cancelled() {
      return cancelled;
    }

    abstract String namespace();

    abstract String key();
  }

  private static final class PendingAcquire extends Pending<AcquireResult> {
    final AcquireRequest request;
    final String token;

    PendingAcquire(AcquireRequest request, String token, MonoSink<AcquireResult> sink) {
      super(sink);
      this.request = request;
      this.token = token;
    }

    @Override
    String namespace() {
      return request.namespace();
    }

    @Override
    String key() {
      return request.key();
    }
  }

  private CompletionStage<?> sendAcquires(List<PendingAcquire> batch) {
    if (!redis.cluster() || batch.size() == 1) {
      return sendAcquireGroup(batch);
    }
    return sendBySlot(batch, this::sendAcquireGroup);
  }

  private <P extends Pending<?>> CompletionStage<?> sendBySlot(
      List<P> batch, java.util.function.Function<List<P>, CompletionStage<?>> send) {
    Map<Integer, List<P>> bySlot = new LinkedHashMap<>();
    for (P p : batch) {
      bySlot.computeIfAbsent(keys.slot(p.namespace(), p.key()), s -> new ArrayList<>()).add(p);
    }
    CompletableFuture<?>[] all = new CompletableFuture<?>[bySlot.size()];
    int i = 0;
    for (List<P> group : bySlot.values()) {
      all[i++] = send.apply(group).toCompletableFuture();
    }
    return CompletableFuture.allOf(all);
  }

  private CompletionStage<?> sendAcquireGroup(List<PendingAcquire> group) {
    try {
      int n = group.size();
      String[] k = new String[3 * n];
      Map<String, Integer> specs = new LinkedHashMap<>();
      List<byte[]> specArgs = new ArrayList<>();
      byte[][] items = new byte[ACQUIRE_ARGS * n][];
      for (int i = 0; i < n; i++) {
        PendingAcquire p = group.get(i);
        AcquireRequest r = p.request;
        k[3 * i] = keys.leaseKey(r.namespace(), r.key());
        k[3 * i + 1] = keys.fenceKey(r.namespace(), r.key());
        k[3 * i + 2] = keys.recordKey(r.namespace(), r.key());
        Guard g = r.guard();
        boolean contiguous = g != null && g.contiguous();
        long ttl = millis(r.leaseTtl());
        long retention = millis(r.retention());
        String spec =
            ttl + ":" + retention + ":" + contiguous + ":" + r.redrive() + ":" + r.owner();
        Integer index = specs.get(spec);
        if (index == null) {
          index = specs.size() + 1;
          specs.put(spec, index);
          specArgs.add(utf8(r.owner()));
          specArgs.add(number(ttl));
          specArgs.add(number(retention));
          specArgs.add(contiguous ? ONE : ZERO);
          specArgs.add(r.redrive() ? ONE : ZERO);
        }
        int j = ACQUIRE_ARGS * i;
        items[j] = utf8(p.token);
        items[j + 1] = number(index);
        items[j + 2] = r.fingerprint() == null ? EMPTY : utf8("=" + r.fingerprint());
        items[j + 3] = g == null ? EMPTY : number(g.value());
        items[j + 4] =
            g == null ? EMPTY : number(g.value() == Long.MIN_VALUE ? g.value() : g.value() - 1);
      }
      byte[][] a = new byte[1 + specArgs.size() + items.length][];
      a[0] = number(specs.size());
      for (int i = 0; i < specArgs.size(); i++) {
        a[1 + i] = specArgs.get(i);
      }
      System.arraycopy(items, 0, a, 1 + specArgs.size(), items.length);
      return this.<List<Object>>run(true, Scripts.ACQUIRE, ScriptOutputType.MULTI, k, a)
          .handle(
              (reply, error) -> {
                for (int i = 0; i < n; i++) {
                  PendingAcquire p = group.get(i);
                  if (error != null) {
                    p.sink.error(failure("acquire", p, error));
                    continue;
                  }
                  try {
                    p.sink.success(decodeAcquire(p, asList(reply.get(i))));
                  } catch (RuntimeException e) {
                    p.sink.error(failure("acquire", p, e));
                  }
                }
                return null;
              });
    } catch (RuntimeException e) {
      for (PendingAcquire p : group) {
        p.sink.error(failure("acquire", p, e));
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  private static AcquireResult decodeAcquire(PendingAcquire p, List<Object> item) {
    AcquireRequest r = p.request;
    long code = (Long) item.get(0);
    if (code == 1) {
      return new AcquireResult.Acquired(
          new Lease(
              r.namespace(),
              r.key(),
              r.owner(),
              p.token,
              (Long) item.get(1),
              Instant.ofEpochMilli((Long) item.get(2)),
              r.fingerprint(),
              r.guard()));
    }
    if (code == 3) {
      return new AcquireResult.InProgress(Instant.ofEpochMilli((Long) item.get(1)));
    }
    OutcomeRecord record = decodeRecord((byte[]) item.get(1));
    if (code == 2) {
      return new AcquireResult.Completed(record);
    }
    if (code == 4) {
      return new AcquireResult.Conflict(record, Objects.requireNonNull(r.fingerprint()));
    }
    throw new IllegalStateException("unexpected acquire reply code " + code);
  }

  /** Decodes a record value (see the class documentation for its layout). */
  static OutcomeRecord decodeRecord(byte[] v) {
    int p2 = indexOf(v, (byte) '|', 2);
    int p3 = indexOf(v, (byte) '|', p2 + 1);
    int p4 = indexOf(v, (byte) '|', p3 + 1);
    int p5 = indexOf(v, (byte) '|', p4 + 1);
    long completedAt = parseLong(v, 2, p2);
    long fence = parseLong(v, p2 + 1, p3);
    Long guard = p4 > p3 + 1 ? parseLong(v, p3 + 1, p4) : null;
    long fpLen = parseLong(v, p4 + 1, p5);
    int at = p5 + 1;
    String fp = null;
    if (fpLen >= 0) {
      fp = new String(v, at, (int) fpLen, StandardCharsets.UTF_8);
      at += (int) fpLen;
    }
    byte[] result = v[at] == 'R' ? java.util.Arrays.copyOfRange(v, at + 1, v.length) : null;
    return new OutcomeRecord(
        v[0] == 'D' ? RecordedOutcome.DEAD_LETTERED : RecordedOutcome.PROCESSED,
        result,
        Instant.ofEpochMilli(completedAt),
        fence,
        fp,
        guard);
  }

  private static int indexOf(byte[] v, byte b, int from) {
    for (int i = from; i < v.length; i++) {
      if (v[i] == b) {
        return i;
      }
    }
    throw new IllegalStateException("malformed record value in Redis");
  }

  private static long parseLong(byte[] v, int from, int to) {
    return Long.parseLong(new String(v, from, to - from, StandardCharsets.US_ASCII));
  }

  // ------------------------------------------------------------------ complete

  @Override
  public Mono<Boolean> complete(Lease lease, Completion completion) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(completion, "completion");
    return Mono.create(
        sink -> {
          PendingComplete p;
          try {
            KeyLayout.checkNamespace(lease.namespace());
            p = new PendingComplete(lease, completion, sink);
            encodeCompletion(p);
          } catch (IllegalArgumentException e) {
            sink.error(e);
            return;
          }
          sink.onCancel(p::cancel);
          completes.submit(p);
        });
  }

  private static final class PendingComplete extends Pending<Boolean> {
    final Lease lease;
    final Completion completion;
    final List<String> keys = new ArrayList<>();
    final List<byte[]> args = new ArrayList<>();

    PendingComplete(Lease lease, Completion completion, MonoSink<Boolean> sink) {
      super(sink);
      this.lease = lease;
      this.completion = completion;
    }

    @Override
    String namespace() {
      return lease.namespace();
    }

    @Override
    String key() {
      return lease.key();
    }
  }

  private void encodeCompletion(PendingComplete p) {
    Lease lease = p.lease;
    Completion c = p.completion;
    String ns = lease.namespace();
    String leaseKey = keys.leaseKey(ns, lease.key());
    int slot = redis.cluster() ? SlotHash.getSlot(leaseKey) : -1;
    p.keys.add(leaseKey);
    p.keys.add(keys.fenceKey(ns, lease.key()));
    p.keys.add(keys.recordKey(ns, lease.key()));
    List<byte[]> effectArgs = new ArrayList<>();
    for (Effect e : c.effects()) {
      String ek = e.key();
      if (ek.startsWith("{")) {
        throw new EffectRejectedException(
            "effect key '"
                + ek
                + "' of namespace '"
                + ns
                + "' starts with '{', a shape reserved for the store's own keys; use"
                + " RedisIdempotencyStore.colocated(name, key) or another name");
      }
      String redisKey = keys.effectKey(ns, ek);
      if (slot >= 0 && SlotHash.getSlot(redisKey) != slot) {
        throw new EffectRejectedException(
            "effect key '"
                + ek
                + "' maps to Redis key '"
                + redisKey
                + "' in Cluster slot "
                + SlotHash.getSlot(redisKey)
                + ", but message key '"
                + lease.key()
                + "' of namespace '"
                + ns
                + "' lives in slot "
                + slot
                + "; a Redis Cluster applies effects atomically only in the message key's slot:"
                + " name the key with RedisIdempotencyStore.colocated(name, key)");
      }
      p.keys.add(redisKey);
      encodeEffect(e, effectArgs);
    }
    List<byte[]> a = p.args;
    a.add(number(c.effects().size()));
    a.add(number(effectArgs.size()));
    a.add(utf8(lease.token()));
    a.add(c.outcome() == RecordedOutcome.DEAD_LETTERED ? new byte[] {'D'} : new byte[] {'P'});
    byte[] result = c.result();
    a.add(result == null ? ZERO : ONE);
    a.add(result == null ? EMPTY : result.clone());
    a.add(number(millis(c.retention())));
    a.add(lease.fingerprint() == null ? ZERO : ONE);
    a.add(lease.fingerprint() == null ? EMPTY : utf8(lease.fingerprint()));
    Guard g = lease.guard();
    a.add(g == null ? ZERO : ONE);
    a.add(g == null ? EMPTY : number(g.value()));
    a.addAll(effectArgs);
  }

  private static void encodeEffect(Effect e, List<byte[]> out) {
    if (e instanceof Effect.HashSet hs) {
      out.add(utf8("HSET"));
      out.add(utf8(hs.field()));
      out.add(utf8(hs.value()));
    } else if (e instanceof Effect.HashIncrement hi) {
      out.add(utf8("HINCRBY"));
      out.add(utf8(hi.field()));
      out.add(number(hi.delta()));
    } else if (e instanceof Effect.SetValue sv) {
      out.add(utf8("SET"));
      out.add(utf8(sv.value()));
    } else if (e instanceof Effect.Increment in) {
      out.add(utf8("INCRBY"));
      out.add(number(in.delta()));
    } else if (e instanceof Effect.SetAdd sa) {
      out.add(utf8("SADD"));
      out.add(utf8(sa.member()));
    } else if (e instanceof Effect.StreamAdd xa) {
      out.add(utf8("XADD"));
      out.add(number(xa.fields().size()));
      for (Map.Entry<String, String> f : xa.fields().entrySet()) {
        out.add(utf8(f.getKey()));
        out.add(utf8(f.getValue()));
      }
    } else {
      throw new EffectRejectedException("unsupported effect " + e.getClass().getName());
    }
  }

  private CompletionStage<?> sendCompletes(List<PendingComplete> batch) {
    if (!redis.cluster() || batch.size() == 1) {
      return sendCompleteGroup(batch);
    }
    return sendBySlot(batch, this::sendCompleteGroup);
  }

  private CompletionStage<?> sendCompleteGroup(List<PendingComplete> group) {
    try {
      int nk = 0;
      int na = 0;
      for (PendingComplete p : group) {
        nk += p.keys.size();
        na += p.args.size();
      }
      String[] k = new String[nk];
      byte[][] a = new byte[na][];
      int ik = 0;
      int ia = 0;
      for (PendingComplete p : group) {
        for (String s : p.keys) {
          k[ik++] = s;
        }
        for (byte[] b : p.args) {
          a[ia++] = b;
        }
      }
      return this.<List<Object>>run(true, Scripts.COMPLETE, ScriptOutputType.MULTI, k, a)
          .handle(
              (reply, error) -> {
                for (int i = 0; i < group.size(); i++) {
                  PendingComplete p = group.get(i);
                  if (error != null) {
                    p.sink.error(failure("complete", p, error));
                    continue;
                  }
                  Object item = reply.get(i);
                  if (item instanceof Long l) {
                    p.sink.success(l == 1L);
                  } else {
                    p.sink.error(
                        new EffectRejectedException(
                            "Redis refused the effects of key '"
                                + p.key()
                                + "' in namespace '"
                                + p.namespace()
                                + "', nothing was written: "
                                + text(item)));
                  }
                }
                return null;
              });
    } catch (RuntimeException e) {
      for (PendingComplete p : group) {
        p.sink.error(failure("complete", p, e));
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  // ------------------------------------------------------------------ release, extend, find

  @Override
  public Mono<Boolean> release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    return single(
            "release",
            lease.namespace(),
            lease.key(),
            Scripts.RELEASE,
            ScriptOutputType.INTEGER,
            ns -> new String[] {keys.leaseKey(ns, lease.key())},
            () -> new byte[][] {utf8(lease.token())})
        .map(r -> ((Long) r) == 1L);
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isZero() || ttl.isNegative()) {
      return Mono.error(new IllegalArgumentException("ttl must be positive, but was " + ttl));
    }
    return single(
            "extend",
            lease.namespace(),
            lease.key(),
            Scripts.EXTEND,
            ScriptOutputType.INTEGER,
            ns -> new String[] {keys.leaseKey(ns, lease.key()), keys.fenceKey(ns, lease.key())},
            () -> new byte[][] {utf8(lease.token()), number(millis(ttl))})
        .map(r -> ((Long) r) > 0L);
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    return single(
            "find",
            namespace,
            key,
            Scripts.FIND,
            ScriptOutputType.VALUE,
            ns -> new String[] {keys.recordKey(ns, key)},
            () -> new byte[0][])
        .map(r -> decodeRecord((byte[]) r));
  }

  private Mono<Object> single(
      String op,
      String namespace,
      String key,
      Scripts script,
      ScriptOutputType type,
      java.util.function.Function<String, String[]> keysOf,
      java.util.function.Supplier<byte[][]> args) {
    return Mono.defer(
        () -> {
          try {
            KeyLayout.checkNamespace(namespace);
          } catch (IllegalArgumentException e) {
            return Mono.error(e);
          }
          String[] k = keysOf.apply(namespace);
          return Mono.fromCompletionStage(run(false, script, type, k, args.get()))
              .onErrorMap(e -> failure(op, namespace, key, e));
        });
  }

  // ------------------------------------------------------------------ plumbing

  /** EVALSHA, and EVAL when the server lost the script. */
  private <T> CompletableFuture<T> run(
      boolean batch, Scripts script, ScriptOutputType type, String[] k, byte[][] a) {
    RedisScriptingAsyncCommands<String, byte[]> c = batch ? redis.batch() : redis.single();
    CompletableFuture<T> first = c.<T>evalsha(script.sha(), type, k, a).toCompletableFuture();
    return first.exceptionallyCompose(
        e -> {
          if (isNoScript(e)) {
            return redis.single().<T>eval(script.source(), type, k, a).toCompletableFuture();
          }
          return CompletableFuture.failedFuture(e);
        });
  }

  private static boolean isNoScript(Throwable e) {
    Throwable t = unwrap(e);
    return t instanceof RedisNoScriptException
        || (t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT"));
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static RuntimeException failure(String op, Pending<?> p, Throwable e) {
    return failure(op, p.namespace(), p.key(), e);
  }

  private static RuntimeException failure(String op, String namespace, String key, Throwable e) {
    Throwable t = unwrap(e);
    if (t instanceof StoreException s) {
      return s;
    }
    if (t instanceof IllegalArgumentException i) {
      return i;
    }
    return new StoreException(
        "Redis store: "
            + op
            + " of key '"
            + key
            + "' in namespace '"
            + namespace
            + "' failed: "
            + t.getClass().getSimpleName()
            + ": "
            + t.getMessage(),
        t);
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object o) {
    return (List<Object>) o;
  }

  private static @Nullable String text(@Nullable Object o) {
    if (o == null) {
      return null;
    }
    if (o instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    return o.toString();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] number(long n) {
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  private static long millis(Duration d) {
    long ms;
    try {
      ms = d.toMillis();
    } catch (ArithmeticException e) {
      ms = MAX_MILLIS;
    }
    return Math.max(1, Math.min(ms, MAX_MILLIS));
  }

  /** Closes the connections and the client. Calls in flight fail with {@link StoreException}. */
  @Override
  public void close() {
    redis.close();
  }
}
