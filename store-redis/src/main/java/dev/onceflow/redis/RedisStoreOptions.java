package dev.onceflow.redis;

import io.lettuce.core.RedisURI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How {@link RedisIdempotencyStore} reaches Redis: one topology (standalone, Cluster or Sentinel),
 * optional TLS and ACL credentials, the key prefix, timeouts and batching. Immutable; build with
 * {@link #builder()}, change a copy with {@link #mutate()}.
 *
 * <p>Setters validate their argument at once; {@link Builder#build()} checks that the options fit
 * together (exactly one topology, TLS settings only with TLS on, a password with a username) and
 * fails with an {@link IllegalArgumentException} saying what to change.
 */
public final class RedisStoreOptions {

  /** Prefix of every key the store writes; the project's name. */
  public static final String DEFAULT_KEY_PREFIX = "onceflow";

  /**
   * Per-command timeout. Two seconds (lettuce's default is 60 s): a pipeline fails closed and nacks
   * instead of stalling for a minute when Redis stops answering.
   */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);

  /** Connect timeout: lettuce's {@code SocketOptions.DEFAULT_CONNECT_TIMEOUT} (10 s). */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Most operations (acquire, complete, release, extend, find, mixed) one server call carries: 128,
   * so that the 256 messages a pipeline typically keeps in flight fill two batches.
   */
  public static final int DEFAULT_BATCH_SIZE = 128;

  /**
   * Batches of one server awaiting their reply at once: 2, so that Redis can run one batch while
   * the client handles the other. A batch leaves at once when none is in flight; a second one only
   * when a quarter of {@link #DEFAULT_BATCH_SIZE batchSize} waits; otherwise calls wait for a reply
   * and share the next round trip.
   */
  public static final int DEFAULT_MAX_IN_FLIGHT_BATCHES = 2;

  /** The most operations one server call may carry (keeps one call's run on Redis short). */
  public static final int MAX_BATCH_SIZE = 1024;

  /**
   * Replicas a completion waits for: none. Redis replicates asynchronously, so a failover can lose
   * an acknowledged record; see {@link Builder#waitForReplicas(int, Duration)}.
   */
  public static final int DEFAULT_WAIT_FOR_REPLICAS = 0;

  /** The Redis topology. */
  public enum Topology {
    /** One Redis server (or a primary with replicas that the client does not read from). */
    STANDALONE,
    /** A Redis Cluster: every key of one message lives in one slot. */
    CLUSTER,
    /** A primary found through Redis Sentinel. */
    SENTINEL
  }

  private final Topology topology;
  private final List<RedisURI> uris;
  private final boolean tls;
  private final boolean verifyPeer;
  private final @Nullable Path trustedCertificates;
  private final @Nullable String username;
  private final char @Nullable [] password;
  private final String keyPrefix;
  private final Duration commandTimeout;
  private final Duration connectTimeout;
  private final int batchSize;
  private final int maxInFlightBatches;
  private final int waitForReplicas;
  private final Duration waitForReplicasTimeout;
  private final Builder source;

  private RedisStoreOptions(Builder b, Topology topology, List<RedisURI> uris) {
    this.topology = topology;
    this.uris = List.copyOf(uris);
    this.tls = b.tls || uris.stream().anyMatch(RedisURI::isSsl);
    this.verifyPeer = b.verifyPeer;
    this.trustedCertificates = b.trustedCertificates;
    this.username = b.username;
    this.password = b.password == null ? null : b.password.clone();
    this.keyPrefix = b.keyPrefix;
    this.commandTimeout = b.commandTimeout;
    this.connectTimeout = b.connectTimeout;
    this.batchSize = b.batchSize;
    this.maxInFlightBatches = b.maxInFlightBatches;
    this.waitForReplicas = b.waitForReplicas;
    this.waitForReplicasTimeout = b.waitForReplicasTimeout;
    this.source = b.copy();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Standalone options for one URI, everything else default. */
  public static RedisStoreOptions standalone(String uri) {
    return builder().standalone(uri).build();
  }

  /** A builder holding these options, to derive changed options. */
  public Builder mutate() {
    return source.copy();
  }

  public Topology topology() {
    return topology;
  }

  /**
   * The URIs with TLS and credentials applied: the server (standalone), the seed nodes (Cluster),
   * or one URI listing the sentinels (Sentinel). Fresh copies; changing them changes nothing here.
   */
  public List<RedisURI> redisUris() {
    List<RedisURI> out = new ArrayList<>(uris.size());
    for (RedisURI u : uris) {
      RedisURI c;
      if (u.getSentinels().isEmpty()) {
        c = RedisURI.builder(u).build();
      } else {
        RedisURI.Builder b = null;
        for (RedisURI s : u.getSentinels()) {
          b =
              b == null
                  ? RedisURI.Builder.sentinel(s.getHost(), s.getPort(), u.getSentinelMasterId())
                  : b.withSentinel(s.getHost(), s.getPort());
        }
        c = Objects.requireNonNull(b).build();
        if (tls) {
          c.getSentinels().forEach(s -> s.setSsl(true));
        }
      }
      if (tls) {
        c.setSsl(true);
        c.setVerifyPeer(verifyPeer);
      }
      if (password != null) {
        if (username != null) {
          c.setAuthentication(username, password);
        } else {
          c.setAuthentication(password);
        }
      }
      c.setTimeout(commandTimeout);
      out.add(c);
    }
    return out;
  }

  public boolean tls() {
    return tls;
  }

  public boolean verifyPeer() {
    return verifyPeer;
  }

  public @Nullable Path trustedCertificates() {
    return trustedCertificates;
  }

  public @Nullable String username() {
    return username;
  }

  public String keyPrefix() {
    return keyPrefix;
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public int batchSize() {
    return batchSize;
  }

  public int maxInFlightBatches() {
    return maxInFlightBatches;
  }

  /** Replicas every completion waits for (WAIT), 0 for none. */
  public int waitForReplicas() {
    return waitForReplicas;
  }

  /** How long a completion waits for its replicas; meaningful when {@link #waitForReplicas()}. */
  public Duration waitForReplicasTimeout() {
    return waitForReplicasTimeout;
  }

  /** Never prints the password. */
  @Override
  public String toString() {
    List<String> hosts = new ArrayList<>();
    for (RedisURI u : uris) {
      if (u.getSentinels().isEmpty()) {
        hosts.add(u.getHost() + ":" + u.getPort());
      } else {
        u.getSentinels().forEach(s -> hosts.add(s.getHost() + ":" + s.getPort()));
      }
    }
    return "RedisStoreOptions{topology="
        + topology
        + ", nodes="
        + hosts
        + ", tls="
        + tls
        + ", username="
        + username
        + ", password="
        + (password == null ? "none" : "****")
        + ", keyPrefix="
        + keyPrefix
        + ", commandTimeout="
        + commandTimeout
        + ", batchSize="
        + batchSize
        + ", maxInFlightBatches="
        + maxInFlightBatches
        + (waitForReplicas > 0
            ? ", waitForReplicas=" + waitForReplicas + " within " + waitForReplicasTimeout
            : "")
        + "}";
  }

  /** Builds {@link RedisStoreOptions}; not thread-safe. */
  public static final class Builder {
    private @Nullable RedisURI standalone;
    private @Nullable List<RedisURI> cluster;
    private @Nullable RedisURI sentinel;
    private int topologies;
    private boolean tls;
    private boolean verifyPeer = true;
    private @Nullable Path trustedCertificates;
    private @Nullable String username;
    private char @Nullable [] password;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int maxInFlightBatches = DEFAULT_MAX_IN_FLIGHT_BATCHES;
    private int waitForReplicas = DEFAULT_WAIT_FOR_REPLICAS;
    private Duration waitForReplicasTimeout = DEFAULT_COMMAND_TIMEOUT;

    private Builder() {}

    private Builder copy() {
      Builder b = new Builder();
      b.standalone = standalone;
      b.cluster = cluster;
      b.sentinel = sentinel;
      b.topologies = topologies;
      b.tls = tls;
      b.verifyPeer = verifyPeer;
      b.trustedCertificates = trustedCertificates;
      b.username = username;
      b.password = password == null ? null : password.clone();
      b.keyPrefix = keyPrefix;
      b.commandTimeout = commandTimeout;
      b.connectTimeout = connectTimeout;
      b.batchSize = batchSize;
      b.maxInFlightBatches = maxInFlightBatches;
      b.waitForReplicas = waitForReplicas;
      b.waitForReplicasTimeout = waitForReplicasTimeout;
      return b;
    }

    private static RedisURI parse(String name, String uri) {
      Objects.requireNonNull(uri, name);
      try {
        RedisURI u = RedisURI.create(uri);
        if (u.getHost() == null || u.getHost().isBlank()) {
          throw new IllegalArgumentException("no host");
        }
        return u;
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "`"
                + name
                + "` must be a Redis URI such as redis://host:6379 or rediss://host:6380, but was '"
                + uri
                + "' ("
                + e.getMessage()
                + ")",
            e);
      }
    }

    /** One Redis server, e.g. {@code redis://127.0.0.1:6379} ({@code rediss://} for TLS). */
    public Builder standalone(String uri) {
      if (standalone == null) {
        topologies++;
      }
      this.standalone = parse("standalone", uri);
      return this;
    }

    /** A Redis Cluster through one or more seed nodes, e.g. {@code redis://10.0.0.1:7000}. */
    public Builder cluster(List<String> seedUris) {
      Objects.requireNonNull(seedUris, "seedUris");
      if (seedUris.isEmpty()) {
        throw new IllegalArgumentException("`cluster` needs at least one seed URI, but got none");
      }
      List<RedisURI> parsed = new ArrayList<>();
      for (String s : seedUris) {
        parsed.add(parse("cluster", s));
      }
      if (cluster == null) {
        topologies++;
      }
      this.cluster = List.copyOf(parsed);
      return this;
    }

    /** A Redis Cluster through seed nodes. */
    public Builder cluster(String... seedUris) {
      return cluster(List.of(seedUris));
    }

    /**
     * A primary found through Redis Sentinel.
     *
     * @param masterId the monitored primary's name (sentinel.conf {@code sentinel monitor <name>})
     * @param sentinels sentinel addresses as {@code host:port}
     */
    public Builder sentinel(String masterId, List<String> sentinels) {
      Objects.requireNonNull(masterId, "masterId");
      Objects.requireNonNull(sentinels, "sentinels");
      if (masterId.isBlank()) {
        throw new IllegalArgumentException("`masterId` must not be blank");
      }
      if (sentinels.isEmpty()) {
        throw new IllegalArgumentException("`sentinel` needs at least one host:port, but got none");
      }
      RedisURI.Builder b = null;
      for (String hp : sentinels) {
        Objects.requireNonNull(hp, "sentinel");
        int colon = hp.lastIndexOf(':');
        String host = colon < 0 ? hp : hp.substring(0, colon);
        int port;
        try {
          port =
              colon < 0
                  ? RedisURI.DEFAULT_SENTINEL_PORT
                  : Integer.parseInt(hp.substring(colon + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "a sentinel must be host:port, but was '" + hp + "'", e);
        }
        if (host.isBlank() || port <= 0 || port > 65535) {
          throw new IllegalArgumentException("a sentinel must be host:port, but was '" + hp + "'");
        }
        b =
            b == null
                ? RedisURI.Builder.sentinel(host, port, masterId)
                : b.withSentinel(host, port);
      }
      if (sentinel == null) {
        topologies++;
      }
      this.sentinel = Objects.requireNonNull(b).build();
      return this;
    }

    /** Use TLS for every connection (implied by a {@code rediss://} URI). Default off. */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /** Verify the server's certificate and host name (default true). Turn off only for tests. */
    public Builder verifyPeer(boolean verifyPeer) {
      this.verifyPeer = verifyPeer;
      return this;
    }

    /**
     * A PEM file of the certificates to trust (a private CA or a self-signed server certificate),
     * instead of the JVM's default trust store. Needs TLS.
     */
    public Builder trustedCertificates(Path pemFile) {
      Objects.requireNonNull(pemFile, "pemFile");
      if (!Files.isReadable(pemFile)) {
        throw new IllegalArgumentException(
            "`trustedCertificates` must be a readable PEM file, but was " + pemFile);
      }
      this.trustedCertificates = pemFile;
      return this;
    }

    /** ACL user name (Redis 6+). Needs a {@link #password(String)}. */
    public Builder username(String username) {
      Objects.requireNonNull(username, "username");
      if (username.isBlank()) {
        throw new IllegalArgumentException("`username` must not be blank");
      }
      this.username = username;
      return this;
    }

    /** Password: of the ACL user, or of {@code requirepass} when no username is set. */
    public Builder password(String password) {
      Objects.requireNonNull(password, "password");
      this.password = password.toCharArray();
      return this;
    }

    /**
     * Prefix of every key, default {@value #DEFAULT_KEY_PREFIX}. Keys read {@code
     * <prefix>:<namespace>:...}, so an ACL rule {@code ~<prefix>:<namespace>:*} confines a user.
     */
    public Builder keyPrefix(String keyPrefix) {
      Objects.requireNonNull(keyPrefix, "keyPrefix");
      if (keyPrefix.isEmpty()) {
        throw new IllegalArgumentException("`keyPrefix` must not be empty");
      }
      if (keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
        throw new IllegalArgumentException(
            "`keyPrefix` must not contain '{' or '}' (they would move the Cluster hash tag), but"
                + " was '"
                + keyPrefix
                + "'");
      }
      this.keyPrefix = keyPrefix;
      return this;
    }

    /** How long one command may take before it fails with a {@code StoreException}. */
    public Builder commandTimeout(Duration commandTimeout) {
      this.commandTimeout = positive("commandTimeout", commandTimeout);
      return this;
    }

    /** How long connecting may take. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /** Most operations per server call, 1 to {@value #MAX_BATCH_SIZE}. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw new IllegalArgumentException(
            "`batchSize` must be between 1 and " + MAX_BATCH_SIZE + ", but was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Batches of one server awaiting their reply at once, positive. */
    public Builder maxInFlightBatches(int maxInFlightBatches) {
      if (maxInFlightBatches < 1) {
        throw new IllegalArgumentException(
            "`maxInFlightBatches` must be positive, but was " + maxInFlightBatches);
      }
      this.maxInFlightBatches = maxInFlightBatches;
      return this;
    }

    /**
     * Makes every completion wait until {@code replicas} replicas acknowledged it ({@code WAIT
     * replicas timeout} after the completion, on the same connection), so that a failover to one of
     * them keeps the record. A completion that is written but not acknowledged in time fails with a
     * {@code StoreException}: the caller does not ack, the message comes back and is then
     * recognised as a duplicate. Known gap: that duplicate answer does not wait for replicas, so if
     * the record never reached one, a later failover (for example a second one, back to a primary
     * that has not resynced) loses a record whose message was acked (docs/RELIABILITY.md, "Found",
     * point 5). Costs a replication round trip per batch of completions; WAIT narrows the window,
     * it does not make Redis strongly consistent. 0 (the default) turns it off.
     *
     * @param replicas 0 to 16
     * @param timeout positive, at most {@code commandTimeout} minus a margin is sensible
     */
    public Builder waitForReplicas(int replicas, Duration timeout) {
      if (replicas < 0 || replicas > 16) {
        throw new IllegalArgumentException(
            "`waitForReplicas` must be between 0 and 16, but was " + replicas);
      }
      this.waitForReplicasTimeout = positive("waitForReplicas timeout", timeout);
      this.waitForReplicas = replicas;
      return this;
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException("`" + name + "` must be positive, but was " + d);
      }
      return d;
    }

    /**
     * @throws IllegalArgumentException when no or several topologies were given, TLS settings were
     *     given without TLS, or a username without a password
     */
    public RedisStoreOptions build() {
      if (topologies == 0) {
        throw new IllegalArgumentException(
            "no Redis to connect to: call standalone(uri), cluster(seedUris) or"
                + " sentinel(masterId, sentinels)");
      }
      if (topologies > 1) {
        throw new IllegalArgumentException(
            "choose one topology: standalone, cluster and sentinel exclude each other, but "
                + topologies
                + " were set");
      }
      Topology topology;
      List<RedisURI> uris;
      if (standalone != null) {
        topology = Topology.STANDALONE;
        uris = List.of(standalone);
      } else if (cluster != null) {
        topology = Topology.CLUSTER;
        uris = cluster;
      } else {
        topology = Topology.SENTINEL;
        uris = List.of(Objects.requireNonNull(sentinel));
      }
      boolean anyTls = tls || uris.stream().anyMatch(RedisURI::isSsl);
      if (trustedCertificates != null && !anyTls) {
        throw new IllegalArgumentException(
            "`trustedCertificates` is set but TLS is off: call tls(true) or use a rediss:// URI");
      }
      if (!verifyPeer && !anyTls) {
        throw new IllegalArgumentException(
            "`verifyPeer(false)` is set but TLS is off: call tls(true) or use a rediss:// URI");
      }
      if (waitForReplicas > 0 && waitForReplicasTimeout.compareTo(commandTimeout) >= 0) {
        throw new IllegalArgumentException(
            "the `waitForReplicas` timeout ("
                + waitForReplicasTimeout
                + ") must be shorter than `commandTimeout` ("
                + commandTimeout
                + "), or WAIT would time out as a command before it answers");
      }
      if (username != null && password == null) {
        throw new IllegalArgumentException(
            "`username` is set without a password: call password(...) as well");
      }
      return new RedisStoreOptions(this, topology, uris);
    }
  }
}
