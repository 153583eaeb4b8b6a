package dev.onceflow.spring.boot;

import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.redis.RedisStoreOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code onceflow.*} properties: the idempotency store, the broker connections, the pipelines
 * by name, and the {@code Idempotency-Key} filter. Values are checked when the context starts; a
 * bad one fails startup with a message that names the property and the value.
 */
@ConfigurationProperties(prefix = "onceflow")
public class OnceflowProperties {

  /** Default of {@code onceflow.shutdown-timeout}: 20 s, inside Spring's 30 s per phase. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);

  /** The idempotency store that every pipeline and the Idempotency-Key filter share. */
  private final Store store = new Store();

  /**
   * Pipelines by name. Each one is bound to the {@link PipelineHandler} bean of the same name, and
   * its name is the namespace of its keys in the store and the tag of its metrics.
   */
  private final Map<String, Pipeline> pipelines = new LinkedHashMap<>();

  /** The Kafka connection of the pipelines with {@code broker=kafka}. */
  private final Kafka kafka = new Kafka();

  /** The RabbitMQ connection of the pipelines with {@code broker=rabbitmq}. */
  private final Rabbitmq rabbitmq = new Rabbitmq();

  /** The SQS connection of the pipelines with {@code broker=sqs}. */
  private final Sqs sqs = new Sqs();

  /** HTTP idempotency: the Idempotency-Key WebFilter (WebFlux applications). */
  private final Http http = new Http();

  /**
   * How long a graceful stop lets in-flight deliveries finish before their leases are released and
   * they are left to the broker. Keep it below {@code spring.lifecycle.timeout-per-shutdown-phase}
   * (30 s by default).
   */
  private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

  public Store getStore() {
    return store;
  }

  public Map<String, Pipeline> getPipelines() {
    return pipelines;
  }

  public Kafka getKafka() {
    return kafka;
  }

  public Rabbitmq getRabbitmq() {
    return rabbitmq;
  }

  public Sqs getSqs() {
    return sqs;
  }

  public Http getHttp() {
    return http;
  }

  public Duration getShutdownTimeout() {
    return shutdownTimeout;
  }

  public void setShutdownTimeout(Duration shutdownTimeout) {
    this.shutdownTimeout = shutdownTimeout;
  }

  /** The idempotency store. */
  public static class Store {

    /** The Redis store; without a Redis address the in-memory store (one per process) is used. */
    private final Redis redis = new Redis();

    public Redis getRedis() {
      return redis;
    }
  }

  /** The Redis store: one of {@code uri}, {@code cluster} or {@code sentinel.*}. */
  public static class Redis {

    /** A standalone Redis, such as {@code redis://127.0.0.1:6379} ({@code rediss://} for TLS). */
    private @Nullable String uri;

    /** Seed nodes of a Redis Cluster, such as {@code redis://10.0.0.1:7000}. */
    private List<String> cluster = new ArrayList<>();

    /** A primary found through Redis Sentinel. */
    private final Sentinel sentinel = new Sentinel();

    /** Whether to use TLS (implied by a {@code rediss://} URI). */
    private boolean tls;

    /** ACL user name (Redis 6+); needs a password. */
    private @Nullable String username;

    /** Password of the ACL user, or of {@code requirepass} when no username is set. */
    private @Nullable String password;

    /** Prefix of every key the store writes: {@code <prefix>:<pipeline>:...}. */
    private String keyPrefix = RedisStoreOptions.DEFAULT_KEY_PREFIX;

    /** How long one Redis command may take before it counts as a store error. */
    private Duration commandTimeout = RedisStoreOptions.DEFAULT_COMMAND_TIMEOUT;

    /** How long connecting may take at startup. */
    private Duration connectTimeout = RedisStoreOptions.DEFAULT_CONNECT_TIMEOUT;

    /** Whether any Redis address is configured. */
    public boolean configured() {
      return uri != null
          || !cluster.isEmpty()
          || sentinel.getMaster() != null
          || !sentinel.getNodes().isEmpty();
    }

    public @Nullable String getUri() {
      return uri;
    }

    public void setUri(@Nullable String uri) {
      this.uri = uri;
    }

    public List<String> getCluster() {
      return cluster;
    }

    public void setCluster(List<String> cluster) {
      this.cluster = cluster;
    }

    public Sentinel getSentinel() {
      return sentinel;
    }

    public boolean isTls() {
      return tls;
    }

    public void setTls(boolean tls) {
      this.tls = tls;
    }

    public @Nullable String getUsername() {
      return username;
    }

    public void setUsername(@Nullable String username) {
      this.username = username;
    }

    public @Nullable String getPassword() {
      return password;
    }

    public void setPassword(@Nullable String password) {
      this.password = password;
    }

    public String getKeyPrefix() {
      return keyPrefix;
    }

    public void setKeyPrefix(String keyPrefix) {
      this.keyPrefix = keyPrefix;
    }

    public Duration getCommandTimeout() {
      return commandTimeout;
    }

    public void setCommandTimeout(Duration commandTimeout) {
      this.commandTimeout = commandTimeout;
    }

    public Duration getConnectTimeout() {
      return connectTimeout;
    }

    public void setConnectTimeout(Duration connectTimeout) {
      this.connectTimeout = connectTimeout;
    }
  }

  /** Redis Sentinel. */
  public static class Sentinel {

    /** The monitored primary's name ({@code sentinel monitor <name>} in sentinel.conf). */
    private @Nullable String master;

    /** Sentinel addresses as {@code host:port}. */
    private List<String> nodes = new ArrayList<>();

    public @Nullable String getMaster() {
      return master;
    }

    public void setMaster(@Nullable String master) {
      this.master = master;
    }

    public List<String> getNodes() {
      return nodes;
    }

    public void setNodes(List<String> nodes) {
      this.nodes = nodes;
    }
  }

  /** The broker a pipeline consumes from. */
  public enum Broker {
    /** Apache Kafka (needs {@code dev.onceflow:onceflow-kafka}). */
    KAFKA,
    /** RabbitMQ (needs {@code dev.onceflow:onceflow-rabbitmq}). */
    RABBITMQ,
    /** Amazon SQS (needs {@code dev.onceflow:onceflow-sqs}). */
    SQS
  }

  /** One pipeline. */
  public static class Pipeline {

    /** The broker: kafka, rabbitmq or sqs. Required. */
    private @Nullable Broker broker;

    /** The topic (Kafka) or queue (RabbitMQ: its name; SQS: its URL or name). Required. */
    private @Nullable String destination;

    /** The Kafka consumer group; defaults to the pipeline's name. Kafka only. */
    private @Nullable String group;

    /** The bound on deliveries in flight. */
    private int concurrency = PipelineBuilder.DEFAULT_CONCURRENCY;

    /** How long a lease on a key lives unless the heartbeat extends it. */
    private Duration lease = Dedup.DEFAULT_LEASE;

    /** How long completed records are kept (a duplicate older than that runs again). */
    private Duration retention = Dedup.DEFAULT_RETENTION;

    /** How often a failing handler is retried before the message is dead-lettered (0: never). */
    private int retries = 3;

    /** The first wait before a retry; it doubles on each retry, with jitter. */
    private Duration retryBackoff = Duration.ofMillis(100);

    /**
     * Where messages that fail for good go: a Kafka topic (default {@code <destination>.DLT}), a
     * RabbitMQ queue (default {@code <destination>.dlq}), or an SQS queue URL or name (default
     * {@code <destination>-dlq}).
     */
    private @Nullable String deadLetter;

    /**
     * Create the dead-letter topic or queue at start when it is missing, as Spring's messaging
     * projects create their destinations. When false, a missing one fails the pipeline's run at
     * start, naming it.
     */
    private boolean createDeadLetter = true;

    /** Handle messages of one entity key one at a time, in delivery order. */
    private boolean orderedByKey;

    /**
     * A header (Kafka, AMQP) or message attribute (SQS) that carries the message id, for producers
     * that are not onceflow. Tried before {@code onceflow-id} and the CloudEvents id.
     */
    private @Nullable String idHeader;

    /**
     * Record a payload fingerprint, so that an id reused with another payload is dead-lettered as
     * KEY_REUSED instead of being a duplicate. Off by default: producers re-send with changed
     * bodies (timestamps, retry counters), and the id is the message's identity.
     */
    private boolean fingerprint;

    /** Whether the pipeline starts with the application context. */
    private boolean autoStartup = true;

    /** Extra client properties passed to the broker's consumer (Kafka consumer properties). */
    private Map<String, String> properties = new LinkedHashMap<>();

    public @Nullable Broker getBroker() {
      return broker;
    }

    public void setBroker(@Nullable Broker broker) {
      this.broker = broker;
    }

    public @Nullable String getDestination() {
      return destination;
    }

    public void setDestination(@Nullable String destination) {
      this.destination = destination;
    }

    public @Nullable String getGroup() {
      return group;
    }

    public void setGroup(@Nullable String group) {
      this.group = group;
    }

    public int getConcurrency() {
      return concurrency;
    }

    public void setConcurrency(int concurrency) {
      this.concurrency = concurrency;
    }

    public Duration getLease() {
      return lease;
    }

    public void setLease(Duration lease) {
      this.lease = lease;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }

    public int getRetries() {
      return retries;
    }

    public void setRetries(int retries) {
      this.retries = retries;
    }

    public Duration getRetryBackoff() {
      return retryBackoff;
    }

    public void setRetryBackoff(Duration retryBackoff) {
      this.retryBackoff = retryBackoff;
    }

    public @Nullable String getDeadLetter() {
      return deadLetter;
    }

    public void setDeadLetter(@Nullable String deadLetter) {
      this.deadLetter = deadLetter;
    }

    public boolean isCreateDeadLetter() {
      return createDeadLetter;
    }

    public void setCreateDeadLetter(boolean createDeadLetter) {
      this.createDeadLetter = createDeadLetter;
    }

    public boolean isOrderedByKey() {
      return orderedByKey;
    }

    public void setOrderedByKey(boolean orderedByKey) {
      this.orderedByKey = orderedByKey;
    }

    public @Nullable String getIdHeader() {
      return idHeader;
    }

    public void setIdHeader(@Nullable String idHeader) {
      this.idHeader = idHeader;
    }

    public boolean isFingerprint() {
      return fingerprint;
    }

    public void setFingerprint(boolean fingerprint) {
      this.fingerprint = fingerprint;
    }

    public boolean isAutoStartup() {
      return autoStartup;
    }

    public void setAutoStartup(boolean autoStartup) {
      this.autoStartup = autoStartup;
    }

    public Map<String, String> getProperties() {
      return properties;
    }

    public void setProperties(Map<String, String> properties) {
      this.properties = properties;
    }
  }

  /** The Kafka connection. */
  public static class Kafka {

    /** Comma-separated {@code host:port} list of Kafka brokers. */
    private String bootstrapServers = "localhost:9092";

    /** Extra client properties for every Kafka consumer and dead-letter producer. */
    private Map<String, String> properties = new LinkedHashMap<>();

    public String getBootstrapServers() {
      return bootstrapServers;
    }

    public void setBootstrapServers(String bootstrapServers) {
      this.bootstrapServers = bootstrapServers;
    }

    public Map<String, String> getProperties() {
      return properties;
    }

    public void setProperties(Map<String, String> properties) {
      this.properties = properties;
    }
  }

  /** The RabbitMQ connection. */
  public static class Rabbitmq {

    /** The AMQP URI, such as {@code amqp://user:pass@host:5672/vhost}. */
    private String uri = "amqp://guest:guest@localhost:5672";

    /**
     * Unacknowledged deliveries per consumer (basic.qos); defaults to the pipeline's concurrency.
     */
    private @Nullable Integer prefetch;

    /** Declare the pipeline's queue (durable) at start if it does not exist. */
    private boolean declareQueues;

    public String getUri() {
      return uri;
    }

    public void setUri(String uri) {
      this.uri = uri;
    }

    public @Nullable Integer getPrefetch() {
      return prefetch;
    }

    public void setPrefetch(@Nullable Integer prefetch) {
      this.prefetch = prefetch;
    }

    public boolean isDeclareQueues() {
      return declareQueues;
    }

    public void setDeclareQueues(boolean declareQueues) {
      this.declareQueues = declareQueues;
    }
  }

  /**
   * The SQS connection. An {@code SqsAsyncClient} bean of the application is used when there is
   * one; otherwise the starter builds one from these properties and the default credentials chain.
   */
  public static class Sqs {

    /** The AWS region, such as {@code eu-west-1}; default: the SDK's region provider chain. */
    private @Nullable String region;

    /** An endpoint override, such as {@code http://localhost:9324} for ElasticMQ. */
    private @Nullable String endpoint;

    /** How long an SQS message stays invisible while it is handled (the heartbeat extends it). */
    private Duration visibilityTimeout = Duration.ofSeconds(30);

    public @Nullable String getRegion() {
      return region;
    }

    public void setRegion(@Nullable String region) {
      this.region = region;
    }

    public @Nullable String getEndpoint() {
      return endpoint;
    }

    public void setEndpoint(@Nullable String endpoint) {
      this.endpoint = endpoint;
    }

    public Duration getVisibilityTimeout() {
      return visibilityTimeout;
    }

    public void setVisibilityTimeout(Duration visibilityTimeout) {
      this.visibilityTimeout = visibilityTimeout;
    }
  }

  /** HTTP. */
  public static class Http {

    /** The Idempotency-Key filter. */
    private final Idempotency idempotency = new Idempotency();

    public Idempotency getIdempotency() {
      return idempotency;
    }
  }

  /**
   * The {@code Idempotency-Key} WebFilter (IETF draft "The Idempotency-Key HTTP Header Field"): it
   * applies to requests whose path matches one of {@code paths} and whose method is one of {@code
   * methods}.
   */
  public static class Idempotency {

    /** Whether the filter is installed (it applies only when {@code paths} is not empty). */
    private boolean enabled = true;

    /** Path patterns the filter applies to, such as {@code /orders/**} (PathPattern syntax). */
    private List<String> paths = new ArrayList<>();

    /** The HTTP methods the filter applies to. */
    private List<String> methods = new ArrayList<>(List.of("POST", "PATCH"));

    /** Whether a request on a selected route must carry the key (400 without it). */
    private boolean required = true;

    /** The request header that carries the key. */
    private String header = "Idempotency-Key";

    /** The response header set to {@code true} on a replayed response. */
    private String replayedHeader = "Idempotent-Replayed";

    /** The store namespace of HTTP keys. */
    private String namespace = "http";

    /** Longest key accepted; a longer one is refused with 400. */
    private int maxKeyLength = 255;

    /** Largest request body accepted on a selected route; a larger one is refused with 413. */
    private DataSize maxRequestSize = DataSize.ofMegabytes(1);

    /**
     * Largest response body kept for replay. A larger response is sent as it is, but not stored: a
     * repeat of its key answers 409 (the request ran once; its response was not kept).
     */
    private DataSize maxResponseSize = DataSize.ofMegabytes(1);

    /** Response headers stored and replayed with the status and the body. */
    private List<String> replayedHeaders =
        new ArrayList<>(
            List.of(
                "Content-Type",
                "Content-Language",
                "Content-Encoding",
                "Location",
                "ETag",
                "Last-Modified",
                "Cache-Control"));

    /** How long a request holds its key unless the heartbeat extends it (a crash frees it then). */
    private Duration lease = Duration.ofSeconds(30);

    /** How long a response is kept for replay. */
    private Duration retention = Duration.ofHours(24);

    /** The filter's order; it must run after authentication so that keys are per principal. */
    private int order = 0;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public List<String> getPaths() {
      return paths;
    }

    public void setPaths(List<String> paths) {
      this.paths = paths;
    }

    public List<String> getMethods() {
      return methods;
    }

    public void setMethods(List<String> methods) {
      this.methods = methods;
    }

    public boolean isRequired() {
      return required;
    }

    public void setRequired(boolean required) {
      this.required = required;
    }

    public String getHeader() {
      return header;
    }

    public void setHeader(String header) {
      this.header = header;
    }

    public String getReplayedHeader() {
      return replayedHeader;
    }

    public void setReplayedHeader(String replayedHeader) {
      this.replayedHeader = replayedHeader;
    }

    public String getNamespace() {
      return namespace;
    }

    public void setNamespace(String namespace) {
      this.namespace = namespace;
    }

    public int getMaxKeyLength() {
      return maxKeyLength;
    }

    public void setMaxKeyLength(int maxKeyLength) {
      this.maxKeyLength = maxKeyLength;
    }

    public DataSize getMaxRequestSize() {
      return maxRequestSize;
    }

    public void setMaxRequestSize(DataSize maxRequestSize) {
      this.maxRequestSize = maxRequestSize;
    }

    public DataSize getMaxResponseSize() {
      return maxResponseSize;
    }

    public void setMaxResponseSize(DataSize maxResponseSize) {
      this.maxResponseSize = maxResponseSize;
    }

    public List<String> getReplayedHeaders() {
      return replayedHeaders;
    }

    public void setReplayedHeaders(List<String> replayedHeaders) {
      this.replayedHeaders = replayedHeaders;
    }

    public Duration getLease() {
      return lease;
    }

    public void setLease(Duration lease) {
      this.lease = lease;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }

    public int getOrder() {
      return order;
    }

    public void setOrder(int order) {
      this.order = order;
    }
  }
}
