package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Handler;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.pipeline.ResultCodec;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.spring.boot.OnceflowConfigurationException;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.spring.boot.PipelineCustomizer;
import dev.onceflow.spring.boot.PipelineHandler;
import dev.onceflow.store.IdempotencyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.ResolvableType;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds the pipelines of {@code onceflow.pipelines.*}: each one's handler is the {@link
 * PipelineHandler} bean of its name; its source and dead-letter destination are a {@link
 * MessageSource} and a {@link DeadLetterSink} bean qualified with its name when the application
 * declares them, else the broker binding's.
 */
public final class PipelineAssembler {

  private final OnceflowProperties properties;
  private final IdempotencyStore store;
  private final String storeDescription;
  private final ConfigurableListableBeanFactory beanFactory;
  private final Map<OnceflowProperties.Broker, BrokerBinding> bindings;
  private final JsonMapper json;
  private final List<PipelineCustomizer> customizers;
  private final Clock clock;

  public PipelineAssembler(
      OnceflowProperties properties,
      IdempotencyStore store,
      String storeDescription,
      ConfigurableListableBeanFactory beanFactory,
      List<BrokerBinding> bindings,
      JsonMapper json,
      List<PipelineCustomizer> customizers,
      Clock clock) {
    this.properties = properties;
    this.store = store;
    this.storeDescription = storeDescription;
    this.beanFactory = beanFactory;
    this.bindings = new LinkedHashMap<>();
    for (BrokerBinding b : bindings) {
      this.bindings.put(b.broker(), b);
    }
    this.json = json;
    this.customizers = List.copyOf(customizers);
    this.clock = clock;
  }

  /** Builds every configured pipeline; closes what it created when one of them fails. */
  public PipelineRegistry assemble() {
    checkHandlersHavePipelines();
    Map<String, ManagedPipeline> built = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, OnceflowProperties.Pipeline> e :
          properties.getPipelines().entrySet()) {
        built.put(e.getKey(), build(e.getKey(), e.getValue()));
      }
    } catch (RuntimeException e) {
      new PipelineRegistry(built).destroy();
      throw e;
    }
    return new PipelineRegistry(built);
  }

  /** A handler bean without a pipeline is a typo in a property or a bean name: say so. */
  private void checkHandlersHavePipelines() {
    String[] handlers =
        BeanFactoryUtils.beanNamesForTypeIncludingAncestors(
            beanFactory, PipelineHandler.class, true, false);
    for (String handler : handlers) {
      if (!properties.getPipelines().containsKey(handler)) {
        throw new OnceflowConfigurationException(
            Properties.pipeline(handler, "broker"),
            null,
            "must be kafka, rabbitmq or sqs for the PipelineHandler bean '" + handler + "'",
            "Configure onceflow.pipelines."
                + handler
                + ".broker and .destination, or name the bean after a configured pipeline "
                + names(properties.getPipelines().keySet())
                + ".");
      }
    }
  }

  private ManagedPipeline build(String name, OnceflowProperties.Pipeline p) {
    Properties.check(
        "onceflow.pipelines." + name,
        name,
        "Name pipelines with letters, digits, '.', '_' or '-'.",
        () -> Onceflow.consume(NoSource.INSTANCE).name(name));
    HandlerBean handler = handler(name);
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      MessageSource source = qualified(MessageSource.class, name);
      DeadLetterSink deadLetters = qualified(DeadLetterSink.class, name);
      if (source == null || deadLetters == null) {
        BrokerBinding binding = binding(name, p);
        if (source == null) {
          Properties.require(
              Properties.pipeline(name, "destination"), p.getDestination(), "a topic or queue");
          source = binding.source(name, p);
          addResource(resources, source);
        }
        if (deadLetters == null) {
          deadLetters = binding.deadLetter(name, p);
          addResource(resources, deadLetters);
        }
      }
      RecentDeadLetters recent = new RecentDeadLetters(clock);
      Pipeline<?, ?> pipeline = pipeline(name, p, handler, source, deadLetters);
      return new ManagedPipeline(name, pipeline, p, recent, resources, storeDescription);
    } catch (RuntimeException e) {
      for (AutoCloseable r : resources) {
        try {
          r.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Pipeline<?, ?> pipeline(
      String name,
      OnceflowProperties.Pipeline p,
      HandlerBean handler,
      MessageSource source,
      DeadLetterSink deadLetters) {
    Duration lease = p.getLease();
    Duration retention = p.getRetention();
    Dedup dedup =
        Properties.check(
            Properties.pipeline(name, "lease"),
            lease,
            "Set a positive duration, such as 30s.",
            () -> Dedup.byMessageId(store).lease(lease));
    dedup =
        Properties.check(
                Properties.pipeline(name, "retention"),
                retention,
                "Set a positive duration, such as 7d.",
                () -> Dedup.byMessageId(store).retain(retention))
            .lease(lease);
    if (retention.compareTo(lease) < 0) {
      throw new OnceflowConfigurationException(
          Properties.pipeline(name, "retention"),
          retention,
          "must be at least the lease (" + lease + ")",
          "Keep records at least as long as a lease lives.");
    }
    dedup = dedup.fingerprint(p.isFingerprint());
    if (p.getRetries() < 0) {
      throw new OnceflowConfigurationException(
          Properties.pipeline(name, "retries"),
          p.getRetries(),
          "must be 0 or more",
          "Set the number of retries after the first attempt, such as 3.");
    }
    Retries retries =
        p.getRetries() == 0
            ? Retries.none()
            : Properties.check(
                Properties.pipeline(name, "retry-backoff"),
                p.getRetryBackoff(),
                "Set a positive duration, such as 100ms.",
                () -> Retries.exponential(p.getRetries() + 1, p.getRetryBackoff()));
    PipelineBuilder builder =
        Onceflow.consume(source).name(name).decode(handler.decoder()).deduplicate(dedup);
    builder = builder.handle((Handler) handler.handler());
    builder.retry(retries).deadLetterTo(deadLetters);
    PipelineBuilder b = builder;
    Properties.check(
        Properties.pipeline(name, "concurrency"),
        p.getConcurrency(),
        "Set a bound between 1 and 10000.",
        () -> b.concurrency(p.getConcurrency()));
    if (p.isOrderedByKey()) {
      builder.orderedByKey();
    }
    if (handler.resultCodec() != null) {
      builder.resultCodec(handler.resultCodec());
    }
    for (PipelineCustomizer c : customizers) {
      try {
        c.customize(name, builder);
      } catch (RuntimeException e) {
        throw new OnceflowConfigurationException(
            "onceflow.pipelines." + name,
            c.getClass().getName(),
            "could not be customised (" + e.getMessage() + ")",
            "Fix the PipelineCustomizer " + c.getClass().getName() + ".",
            e);
      }
    }
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      throw new OnceflowConfigurationException(
          "onceflow.pipelines." + name,
          name,
          "cannot be built (" + e.getMessage() + ")",
          "Check the pipeline's properties and customizers.",
          e);
    }
  }

  private BrokerBinding binding(String name, OnceflowProperties.Pipeline p) {
    String property = Properties.pipeline(name, "broker");
    OnceflowProperties.Broker broker = p.getBroker();
    if (broker == null) {
      throw new OnceflowConfigurationException(
          property,
          null,
          "must be kafka, rabbitmq or sqs",
          "Set "
              + property
              + ", or declare a MessageSource and a DeadLetterSink bean qualified with @Qualifier(\""
              + name
              + "\").");
    }
    BrokerBinding binding = bindings.get(broker);
    if (binding == null) {
      String module =
          "onceflow-"
              + (broker == OnceflowProperties.Broker.KAFKA ? "kafka" : broker.name().toLowerCase());
      throw new OnceflowConfigurationException(
          property,
          broker.name().toLowerCase(),
          "needs the module dev.onceflow:" + module + " on the classpath",
          "Add the dependency dev.onceflow:" + module + " (its version comes from onceflow-bom).");
    }
    return binding;
  }

  private <T> @Nullable T qualified(Class<T> type, String name) {
    try {
      return BeanFactoryAnnotationUtils.qualifiedBeanOfType(beanFactory, type, name);
    } catch (NoSuchBeanDefinitionException e) {
      return null;
    }
  }

  private static void addResource(List<AutoCloseable> resources, Object o) {
    if (o instanceof AutoCloseable c) {
      resources.add(c);
    }
  }

  /** The handler bean of pipeline {@code name}, its payload decoder and its result codec. */
  private record HandlerBean(
      PipelineHandler<?, ?> handler, Decoder<?> decoder, @Nullable ResultCodec<?> resultCodec) {}

  private HandlerBean handler(String name) {
    if (!beanFactory.containsBean(name)) {
      throw new OnceflowConfigurationException(
          "onceflow.pipelines." + name,
          name,
          "needs a handler",
          "Declare a bean named '"
              + name
              + "' of type PipelineHandler<T, R>, such as @Bean PipelineHandler<Order, Receipt> "
              + name
              + "() { return msg -> ...; }.");
    }
    Object bean = beanFactory.getBean(name);
    if (!(bean instanceof PipelineHandler<?, ?> handler)) {
      throw new OnceflowConfigurationException(
          "onceflow.pipelines." + name,
          name,
          "needs its handler bean '"
              + name
              + "' to be a PipelineHandler, not a "
              + bean.getClass().getName(),
          "Declare the bean '" + name + "' as a PipelineHandler<T, R>, or rename the pipeline.");
    }
    ResolvableType type = handlerType(name, bean);
    ResolvableType payload = type.getGeneric(0);
    Class<?> payloadClass = payload.resolve();
    if (payloadClass == null || payloadClass == Object.class) {
      throw new OnceflowConfigurationException(
          "onceflow.pipelines." + name,
          name,
          "needs the payload type of its handler bean '" + name + "', which is not declared",
          "Declare the bean with its types, such as PipelineHandler<Order, Receipt> "
              + name
              + "(), so that payloads can be decoded.");
    }
    Decoder<?> decoder;
    if (payloadClass == byte[].class) {
      decoder = Decoder.bytes();
    } else if (payloadClass == String.class) {
      decoder = Decoder.utf8();
    } else {
      JavaType javaType = json.getTypeFactory().constructType(payload.getType());
      decoder = envelope -> Objects.requireNonNull(json.readValue(envelope.payload(), javaType));
    }
    ResolvableType result = type.getGeneric(1);
    Class<?> resultClass = result.resolve();
    ResultCodec<?> codec = null;
    if (resultClass == String.class) {
      codec = ResultCodec.utf8();
    } else if (resultClass != null && resultClass != Void.class && resultClass != Object.class) {
      codec = new JsonResultCodec<>(json, json.getTypeFactory().constructType(result.getType()));
    }
    return new HandlerBean(handler, decoder, codec);
  }

  private ResolvableType handlerType(String name, Object bean) {
    ResolvableType declared = ResolvableType.NONE;
    if (beanFactory.containsBeanDefinition(name)) {
      declared =
          beanFactory.getMergedBeanDefinition(name).getResolvableType().as(PipelineHandler.class);
    }
    if (declared == ResolvableType.NONE || declared.getGeneric(0).resolve() == null) {
      declared = ResolvableType.forClass(bean.getClass()).as(PipelineHandler.class);
    }
    return declared;
  }

  private static String names(Set<String> names) {
    return names.isEmpty() ? "(none is configured)" : new TreeSet<>(names).toString();
  }

  /** Result caching as JSON, so that duplicates carry the first run's result. */
  private record JsonResultCodec<R>(JsonMapper json, JavaType type) implements ResultCodec<R> {
    @Override
    public byte[] encode(R result) {
      return json.writeValueAsBytes(result);
    }

    @Override
    public R decode(byte[] bytes) {
      return json.readValue(bytes, type);
    }
  }

  /** Only to check a pipeline name with the core's own rule before anything is created. */
  private static final class NoSource implements MessageSource {
    static final NoSource INSTANCE = new NoSource();

    @Override
    public String name() {
      return "none";
    }

    @Override
    public reactor.core.publisher.Flux<dev.onceflow.core.Delivery> receive() {
      return reactor.core.publisher.Flux.empty();
    }
  }
}
