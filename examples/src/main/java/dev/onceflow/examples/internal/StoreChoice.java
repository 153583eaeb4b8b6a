package dev.onceflow.examples.internal;

import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.store.IdempotencyStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The idempotency store of an example: Redis ({@link RedisIdempotencyStore}) or in memory, plus
 * access to the effect hashes the examples write, so that they can be read back and checked.
 *
 * <p>Effect key {@code e} of pipeline {@code p} is the Redis key {@code <prefix>:<p>:e} (see {@link
 * RedisIdempotencyStore}); in memory it is {@code InMemoryIdempotencyStore.data().hash(p, e)}.
 * Plain effects (written by the handler itself, not with the record) go to the same Redis key, or,
 * in memory, to a map of this object.
 */
public final class StoreChoice implements AutoCloseable {

  private final IdempotencyStore store;
  private final String description;
  private final @Nullable RedisIdempotencyStore redis;
  private final @Nullable RedisClient client;
  private final @Nullable StatefulRedisConnection<String, String> connection;
  private final Map<String, Map<String, AtomicLong>> plainInMemory = new ConcurrentHashMap<>();

  private StoreChoice(
      IdempotencyStore store,
      String description,
      @Nullable RedisIdempotencyStore redis,
      @Nullable RedisClient client,
      @Nullable StatefulRedisConnection<String, String> connection) {
    this.store = store;
    this.description = description;
    this.redis = redis;
    this.client = client;
    this.connection = connection;
  }

  /** The in-memory store. */
  public static StoreChoice inMemory() {
    return new StoreChoice(InMemoryIdempotencyStore.create(), "in-memory store", null, null, null);
  }

  /** The in-memory store, saying why it was chosen. */
  public static StoreChoice inMemory(String why) {
    return new StoreChoice(
        InMemoryIdempotencyStore.create(), "in-memory store (" + why + ")", null, null, null);
  }

  /**
   * The Redis store at {@code uri} with key prefix {@code prefix}. Blocks while connecting.
   *
   * @throws dev.onceflow.store.StoreException when Redis cannot be reached
   */
  public static StoreChoice redis(String uri, String prefix) {
    return redis(
        RedisStoreOptions.builder().standalone(uri).keyPrefix(prefix).build(),
        RedisURI.create(uri),
        "Redis store at " + redacted(uri) + " (key prefix " + prefix + ")");
  }

  /**
   * As {@link #redis(String, String)}, with completions that wait for {@code replicas} replicas
   * (timeout 1 s; see {@link RedisStoreOptions.Builder#waitForReplicas}).
   */
  public static StoreChoice redis(String uri, String prefix, int replicas) {
    return redis(
        RedisStoreOptions.builder()
            .standalone(uri)
            .keyPrefix(prefix)
            .waitForReplicas(replicas, Duration.ofSeconds(1))
            .build(),
        RedisURI.create(uri),
        "Redis store at " + redacted(uri) + " (key prefix " + prefix + ", WAIT " + replicas + ")");
  }

  /**
   * The Redis store on the primary that the sentinel at {@code sentinel} ({@code host:port}) names
   * for {@code masterId}; completions wait for {@code replicas} replicas when positive (timeout 1
   * s). Blocks while connecting.
   */
  public static StoreChoice redisSentinel(
      String masterId, String sentinel, String prefix, int replicas) {
    RedisStoreOptions.Builder b =
        RedisStoreOptions.builder().sentinel(masterId, List.of(sentinel)).keyPrefix(prefix);
    if (replicas > 0) {
      b.waitForReplicas(replicas, Duration.ofSeconds(1));
    }
    int colon = sentinel.lastIndexOf(':');
    RedisURI effects =
        RedisURI.Builder.sentinel(
                sentinel.substring(0, colon),
                Integer.parseInt(sentinel.substring(colon + 1)),
                masterId)
            .build();
    return redis(
        b.build(),
        effects,
        "Redis store through sentinel "
            + sentinel
            + " ("
            + masterId
            + ", key prefix "
            + prefix
            + (replicas > 0 ? ", WAIT " + replicas : "")
            + ")");
  }

  private static StoreChoice redis(RedisStoreOptions options, RedisURI effects, String desc) {
    RedisIdempotencyStore store = RedisIdempotencyStore.create(options);
    RedisClient client = RedisClient.create(effects);
    StatefulRedisConnection<String, String> connection;
    try {
      connection = client.connect();
    } catch (RuntimeException e) {
      store.close();
      client.shutdown();
      throw e;
    }
    return new StoreChoice(store, desc, store, client, connection);
  }

  /**
   * The Redis store when something at {@code uri} answers PING within half a second, the in-memory
   * store otherwise.
   */
  public static StoreChoice redisIfAnswering(String uri, String prefix) {
    return answersPing(uri, Duration.ofMillis(500))
        ? redis(uri, prefix)
        : inMemory("Redis at " + uri + " did not answer");
  }

  /** Whether a Redis server at {@code uri} (host and port only) answers PING in time. */
  public static boolean answersPing(String uri, Duration timeout) {
    URI u = URI.create(uri);
    int port = u.getPort() > 0 ? u.getPort() : 6379;
    String host = u.getHost() == null ? "127.0.0.1" : u.getHost();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      s.setSoTimeout((int) timeout.toMillis());
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int n = in.read(buf);
      // "+PONG", or "-NOAUTH ..." from a server that wants credentials: either way Redis answers.
      return n > 0 && (buf[0] == '+' || buf[0] == '-');
    } catch (IOException e) {
      return false;
    }
  }

  public IdempotencyStore store() {
    return store;
  }

  public boolean isRedis() {
    return redis != null;
  }

  /** Which store this is, without credentials. */
  public String description() {
    return description;
  }

  /** Where effect key {@code effectKey} of pipeline {@code pipeline} lives. */
  public String effectLocation(String pipeline, String effectKey) {
    return redis != null
        ? "Redis hash " + redis.redisKeyOfEffect(pipeline, effectKey)
        : "in-memory hash " + pipeline + "/" + effectKey;
  }

  /**
   * The hash of effect key {@code effectKey} of pipeline {@code pipeline}, transactional and plain
   * writes together (sorted by field). Blocks: call it from a thread that may block.
   */
  public Map<String, String> effects(String pipeline, String effectKey) {
    Map<String, String> out = new TreeMap<>();
    if (redis != null) {
      out.putAll(
          Objects.requireNonNull(connection)
              .sync()
              .hgetall(redis.redisKeyOfEffect(pipeline, effectKey)));
    } else {
      out.putAll(((InMemoryIdempotencyStore) store).data().hash(pipeline, effectKey));
      plainInMemory
          .getOrDefault(pipeline + "\u0000" + effectKey, Map.of())
          .forEach((f, v) -> out.merge(f, Long.toString(v.get()), StoreChoice::sum));
    }
    return out;
  }

  /**
   * A plain effect: {@code HINCRBY} outside the store's record (at-least-once), on the same key a
   * transactional {@code Effect.hincrBy(effectKey, field, delta)} would write.
   */
  public Mono<Long> plainHincrBy(String pipeline, String effectKey, String field, long delta) {
    if (redis != null) {
      return Objects.requireNonNull(connection)
          .reactive()
          .hincrby(redis.redisKeyOfEffect(pipeline, effectKey), field, delta);
    }
    return Mono.fromSupplier(
        () ->
            plainInMemory
                .computeIfAbsent(pipeline + "\u0000" + effectKey, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(field, f -> new AtomicLong())
                .addAndGet(delta));
  }

  /** Deletes an effect hash (the demo cleans up after itself). Blocks. */
  public void deleteEffects(String pipeline, String effectKey) {
    if (redis != null) {
      Objects.requireNonNull(connection).sync().del(redis.redisKeyOfEffect(pipeline, effectKey));
    }
  }

  /**
   * Deletes every Redis key under {@code prefix} ({@code <prefix>:...}: records, effects) with SCAN
   * and UNLINK, and returns how many it deleted; 0 for the in-memory store. Blocks. For programs
   * that made up their own prefix (bench), so that they leave nothing behind.
   */
  public long deleteKeysUnder(String prefix) {
    if (connection == null) {
      return 0;
    }
    var sync = connection.sync();
    io.lettuce.core.ScanArgs args =
        io.lettuce.core.ScanArgs.Builder.matches(globEscaped(prefix) + ":*").limit(2000);
    long deleted = 0;
    io.lettuce.core.KeyScanCursor<String> cursor = sync.scan(args);
    while (true) {
      if (!cursor.getKeys().isEmpty()) {
        deleted += sync.unlink(cursor.getKeys().toArray(String[]::new));
      }
      if (cursor.isFinished()) {
        return deleted;
      }
      cursor = sync.scan(cursor, args);
    }
  }

  private static String globEscaped(String s) {
    return s.replaceAll("([\\\\*?\\[\\]])", "\\\\$1");
  }

  private static String sum(String a, String b) {
    return Long.toString(Long.parseLong(a) + Long.parseLong(b));
  }

  /** A URI with its user info blanked, for printing. */
  public static String redacted(String uri) {
    try {
      URI u = URI.create(uri);
      if (u.getUserInfo() == null) {
        return uri;
      }
      return new URI(u.getScheme(), "***", u.getHost(), u.getPort(), u.getPath(), null, null)
          .toString();
    } catch (Exception e) {
      return "<redis uri>";
    }
  }

  @Override
  public void close() {
    if (connection != null) {
      connection.close();
    }
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (redis != null) {
      redis.close();
    }
  }
}
