package dev.onceflow.spring.boot.internal;

import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.spring.boot.DeadLetterCounts;
import dev.onceflow.spring.boot.OnceflowPipelines;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;

/** The {@link OnceflowPipelines} bean: the built pipelines; closes their resources at the end. */
public final class PipelineRegistry implements OnceflowPipelines, DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(PipelineRegistry.class);

  private final Map<String, ManagedPipeline> managed;
  private final Map<String, Pipeline<?, ?>> pipelines;

  public PipelineRegistry(Map<String, ManagedPipeline> managed) {
    this.managed = Collections.unmodifiableMap(new LinkedHashMap<>(managed));
    Map<String, Pipeline<?, ?>> p = new LinkedHashMap<>();
    managed.forEach((name, m) -> p.put(name, m.pipeline()));
    this.pipelines = Collections.unmodifiableMap(p);
  }

  public Map<String, ManagedPipeline> managed() {
    return managed;
  }

  @Override
  public Map<String, Pipeline<?, ?>> pipelines() {
    return pipelines;
  }

  @Override
  public Pipeline<?, ?> pipeline(String name) {
    return get(name).pipeline();
  }

  @Override
  public DeadLetterCounts deadLetters(String name) {
    return get(name).deadLetters().counts();
  }

  private ManagedPipeline get(String name) {
    ManagedPipeline m = managed.get(name);
    if (m == null) {
      throw new IllegalArgumentException(
          "no pipeline named '" + name + "'; the pipelines are " + managed.keySet());
    }
    return m;
  }

  /** Closes the sources and sinks the starter created, once the lifecycle has stopped them. */
  @Override
  public void destroy() {
    for (ManagedPipeline m : managed.values()) {
      for (AutoCloseable r : m.resources()) {
        try {
          r.close();
        } catch (Exception e) {
          log.warn("onceflow pipeline '{}': closing {} failed", m.name(), r, e);
        }
      }
    }
  }
}
