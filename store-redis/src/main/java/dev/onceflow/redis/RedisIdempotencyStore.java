package dev.onceflow.redis;

import dev.onceflow.redis.internal.AcquireOp;
import dev.onceflow.redis.internal.CompleteOp;
import dev.onceflow.redis.internal.Dispatcher;
import dev.onceflow.redis.internal.KeyLayout;
import dev.onceflow.redis.internal.LeaseOp;
import dev.onceflow.redis.internal.OpMono;
import dev.onceflow.redis.internal.RedisConnections;
import dev.onceflow.redis.internal.Tokens;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The Redis {@link IdempotencyStore}, over lettuce: the same semantics as the in-memory reference
 * store, every operation run atomically by Redis in the store's server code.
 *
 * <h2>Keys</h2>
 *
 * One Redis key per message key {@code k} of namespace {@code ns} holds its fence, its lease and
 * its record: {@code <prefix>:<ns>:{<k>}} (prefix from {@link RedisStoreOptions#keyPrefix()},
 * default {@code onceflow}). The braces are a Cluster hash tag. A message key with a hash tag of
 * its own after its first character keeps it: {@code order-7{user-42}} is stored as {@code
 * <prefix>:<ns>:{user-42}:order-7{user-42}}, in the slot of {@code user-42}; a key that contains a
 * <code>'&#125;'</code> is stored the same way, with the tag cut at that brace; a key that is empty
 * or starts with <code>'&#125;'</code> or {@code '~'} is written as {@code ~k}. Namespaces must not
 * contain braces. An ACL rule {@code ~<prefix>:<ns>:*} confines a Redis user to one pipeline's
 * keys.
 *
 * <p>The key expires (PXAT) at the latest of: retention plus lease after its last grant, its
 * record's expiry and its lease's expiry. So its fence outlives every lease and record (the fence
 * never goes backwards), a lease without a record goes away by itself, and memory follows the live
 * keys. Expired leases and records inside a live key count as absent.
 *
 * <h2>Clock</h2>
 *
 * Lease expiry, record retention and completion times are on the Redis server's clock: the server
 * code reads {@code TIME}. Consumers with skewed clocks therefore agree on when a lease expired.
 * {@link Lease#expiresAt()}, {@link AcquireResult.InProgress#leaseExpiresAt()} and {@link
 * OutcomeRecord#completedAt()} are server times. Needs Redis 6.2+ (PXAT, effect replication of
 * scripts).
 *
 * <h2>Server code</h2>
 *
 * On Redis 7 the code is a function library ({@code onceflow_<digest>}, loaded once per server with
 * {@code FUNCTION LOAD}, called with {@code FCALL}); on Redis 6.2, or for a user not allowed to
 * load functions, the same code runs as a script ({@code EVALSHA}). A server that lost it (restart
 * without persistence, flush) gets it again on the first call that misses it.
 *
 * <h2>Transactional effects</h2>
 *
 * {@link Effect}s of a {@link Completion} run inside the completion, after the server checked that
 * the token still owns the lease and that every effect can apply (key types, integer values,
 * increments that would overflow a signed 64-bit integer, several effects on one key together), so
 * that either all effects and the record are written or nothing is. Effect key {@code e} maps to
 * the Redis key {@code <prefix>:<ns>:e}. An effect key starting with <code>'&#123;'</code> is
 * refused (that shape is reserved for the store's own keys). In a Cluster, an effect key must hash
 * to the message key's slot, or the completion fails with {@link EffectRejectedException} before
 * anything is sent; {@link #colocated(String, String)} names such a key (e.g. {@code
 * colocated("totals", msg.key())}). An effect that cannot apply fails its completion with {@link
 * EffectRejectedException} and writes nothing; other completions sent in the same batch are not
 * affected.
 *
 * <h2>Batching and threading</h2>
 *
 * Every operation (acquire, complete, release, extend, find) goes out in batches, one server call
 * per batch, up to {@link RedisStoreOptions#batchSize()} operations each. A call goes out at once
 * when no batch of its server is in flight; otherwise calls wait for the reply of one in flight
 * (or, up to {@link RedisStoreOptions#maxInFlightBatches()}, until a quarter of a batch waits), and
 * the operations that replies trigger on their own thread leave together. So a lone call is not
 * delayed and hundreds of calls in flight share a round trip. In a Cluster a batch carries the
 * operations of one primary; an operation whose slot moved meanwhile is sent again on its own,
 * routed by its key (lettuce follows MOVED and ASK). No method blocks except {@link
 * #create(RedisStoreOptions)}; results are emitted on lettuce's I/O threads. Every method builds
 * its command per subscription, so a re-subscription re-sends it; cancelling before the batch is
 * sent drops the call.
 *
 * <h2>Errors and timeouts</h2>
 *
 * Timeouts ({@link RedisStoreOptions#commandTimeout()}), a lost connection, ACL refusals ({@code
 * NOPERM}) and other Redis errors are signalled as {@link StoreException}: the caller cannot tell
 * whether the operation happened. Lease tokens are made on the client, so the store cleans up what
 * it cannot know: the lease an {@code acquire} may have been granted although its reply never came
 * (a timeout, a lost connection, or a caller that cancelled after it was sent) is released by
 * compare-and-set on its token as soon as Redis answers again (harmless when it was never granted),
 * so an outage does not strand keys for a whole lease; a release that timed out is sent again the
 * same way. Standalone and Sentinel connections reject calls at once while disconnected (lettuce
 * reconnects in the background); in a Cluster a call to an unreachable node fails after the command
 * timeout. Programming errors are not store errors: a namespace with braces fails with {@link
 * IllegalArgumentException}, a refused effect with {@link EffectRejectedException}.
 *
 * <h2>Operations</h2>
 *
 * Durability is Redis's: a failover with asynchronous replication can lose an acknowledged lease or
 * record (a duplicate may then be processed again); {@link
 * RedisStoreOptions.Builder#waitForReplicas(int, Duration)} makes completions wait for replicas,
 * {@code min-replicas-to-write} and {@code appendfsync always} narrow the window further. Every key
 * the store writes has a TTL, so a {@code volatile-*} or {@code allkeys-*} eviction policy can drop
 * records and fences early: run the store's Redis with {@code maxmemory-policy noeviction}.
 */
public final class RedisIdempotencyStore implements IdempotencyStore, AutoCloseable {

  private final RedisStoreOptions options;
  private final RedisConnections redis;
  private final Dispatcher dispatcher;
  private final KeyLayout keys;
  private final Tokens tokens = new Tokens();

  private RedisIdempotencyStore(RedisStoreOptions options, RedisConnections redis) {
    this.options = options;
    this.redis = redis;
    this.keys = new KeyLayout(options.keyPrefix());
    this.dispatcher = new Dispatcher(redis, options);
  }

  /**
   * Connects to Redis and loads the store's server code. Blocks until connected (at most the
   * connect timeout plus a few command timeouts): call it at startup, not on a non-blocking thread.
   *
   * @throws StoreException when Redis cannot be reached or refuses the credentials
   */
  public static RedisIdempotencyStore create(RedisStoreOptions options) {
    return create(options, null);
  }

  /** As {@link #create(RedisStoreOptions)}, with the server code's form chosen (for tests). */
  static RedisIdempotencyStore create(
      RedisStoreOptions options, RedisConnections.@Nullable Mode mode) {
    Objects.requireNonNull(options, "options");
    try {
      return new RedisIdempotencyStore(options, RedisConnections.connect(options, mode));
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = RedisConnections.unwrap(e);
      throw new StoreException(
          "cannot connect to Redis and load the store's code (" + options + "): " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while connecting to Redis", e);
    } catch (RuntimeException e) {
      throw new StoreException("cannot connect to Redis (" + options + "): " + e.getMessage(), e);
    }
  }

  /** The options this store was created with. */
  public RedisStoreOptions options() {
    return options;
  }

  /** How the server code runs: a Redis 7 function, or a script (Redis 6.2). */
  RedisConnections.Mode mode() {
    return redis.mode();
  }

  /** Acquisitions whose answer never came, waiting to be released (for tests). */
  int orphans() {
    return dispatcher.orphans().size();
  }

  /**
   * An effect key that lives in the Cluster slot of {@code messageKey}: {@code name:{<tag>}}, where
   * the tag is the message key's own hash tag when it has one after its first character, otherwise
   * the key itself. Works in every topology (and in the in-memory store, as a plain name).
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
    return name + ":{" + KeyLayout.slotTag(messageKey) + "}";
  }

  /** The Redis key an effect key of a namespace is written to. */
  public String redisKeyOfEffect(String namespace, String effectKey) {
    return new String(keys.effectKey(namespace, effectKey), StandardCharsets.UTF_8);
  }

  /** The Redis key holding a message key's fence, lease and record. */
  public String redisKeyOfMessage(String namespace, String key) {
    return new String(keys.messageKey(namespace, key), StandardCharsets.UTF_8);
  }

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest request) {
    Objects.requireNonNull(request, "request");
    return new OpMono<>(
        dispatcher,
        actual ->
            new AcquireOp(
                actual,
                request,
                keys.messageKey(request.namespace(), request.key()),
                tokens.next()));
  }

  @Override
  public Mono<Boolean> complete(Lease lease, Completion completion) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(completion, "completion");
    return new OpMono<>(
        dispatcher,
        actual -> {
          byte[] key = keys.messageKey(lease.namespace(), lease.key());
          return new CompleteOp(actual, lease, completion, key, effectKeys(lease, completion, key));
        });
  }

  private byte[][] effectKeys(Lease lease, Completion completion, byte[] messageKey) {
    List<Effect> effects = completion.effects();
    byte[][] out = new byte[effects.size()][];
    int slot = redis.cluster() ? KeyLayout.slot(messageKey) : -1;
    String ns = lease.namespace();
    for (int i = 0; i < out.length; i++) {
      String ek = effects.get(i).key();
      if (ek.startsWith("{")) {
        throw new EffectRejectedException(
            "effect key '"
                + ek
                + "' of namespace '"
                + ns
                + "' starts with '{', a shape reserved for the store's own keys; use"
                + " RedisIdempotencyStore.colocated(name, key) or another name");
      }
      byte[] redisKey = keys.effectKey(ns, ek);
      if (slot >= 0 && KeyLayout.slot(redisKey) != slot) {
        throw new EffectRejectedException(
            "effect key '"
                + ek
                + "' maps to Redis key '"
                + new String(redisKey, StandardCharsets.UTF_8)
                + "' in Cluster slot "
                + KeyLayout.slot(redisKey)
                + ", but message key '"
                + lease.key()
                + "' of namespace '"
                + ns
                + "' lives in slot "
                + slot
                + "; a Redis Cluster applies effects atomically only in the message key's slot:"
                + " name the key with RedisIdempotencyStore.colocated(name, key)");
      }
      out[i] = redisKey;
    }
    return out;
  }

  @Override
  public Mono<Boolean> release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    return new OpMono<>(
        dispatcher,
        actual ->
            LeaseOp.release(
                actual,
                lease.namespace(),
                lease.key(),
                keys.messageKey(lease.namespace(), lease.key()),
                lease.token().getBytes(StandardCharsets.UTF_8)));
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isZero() || ttl.isNegative()) {
      return Mono.error(new IllegalArgumentException("ttl must be positive, but was " + ttl));
    }
    return new OpMono<>(
        dispatcher,
        actual ->
            LeaseOp.extend(actual, lease, keys.messageKey(lease.namespace(), lease.key()), ttl));
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(key, "key");
    return new OpMono<>(
        dispatcher,
        actual -> LeaseOp.find(actual, namespace, key, keys.messageKey(namespace, key)));
  }

  /**
   * Closes the connection and the client. Calls in flight fail with {@link StoreException}; later
   * calls fail at once.
   */
  @Override
  public void close() {
    dispatcher.close();
    redis.close();
  }
}
