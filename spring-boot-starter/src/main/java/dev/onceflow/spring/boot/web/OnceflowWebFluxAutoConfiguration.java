package dev.onceflow.spring.boot.web;

import dev.onceflow.spring.boot.OnceflowAutoConfiguration;
import dev.onceflow.spring.boot.OnceflowConfigurationException;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.store.IdempotencyStore;
import java.time.Duration;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.server.WebFilter;
import org.springframework.web.util.pattern.PathPatternParser;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@link IdempotencyKeyWebFilter} of a reactive web application, on the idempotency store of
 * the pipelines, configured by {@code onceflow.http.idempotency.*}. Off with {@code
 * onceflow.http.idempotency.enabled=false}; it applies only to the routes of {@code paths}.
 */
@AutoConfiguration(after = OnceflowAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnClass(WebFilter.class)
@ConditionalOnBooleanProperty(name = "onceflow.http.idempotency.enabled", matchIfMissing = true)
public class OnceflowWebFluxAutoConfiguration {

  private static final Set<String> METHODS = Set.of("POST", "PUT", "PATCH", "DELETE", "GET");

  @Bean
  @ConditionalOnMissingBean
  IdempotencyKeyWebFilter idempotencyKeyWebFilter(
      IdempotencyStore store, OnceflowProperties properties, ObjectProvider<JsonMapper> json) {
    OnceflowProperties.Idempotency o = properties.getHttp().getIdempotency();
    check(o);
    return new IdempotencyKeyWebFilter(
        store, o, json.getIfAvailable(() -> JsonMapper.builder().build()));
  }

  private static void check(OnceflowProperties.Idempotency o) {
    String p = "onceflow.http.idempotency.";
    for (String path : o.getPaths()) {
      try {
        PathPatternParser.defaultInstance.parse(path);
      } catch (RuntimeException e) {
        throw new OnceflowConfigurationException(
            p + "paths",
            path,
            "must be path patterns (" + e.getMessage() + ")",
            "Use Spring's PathPattern syntax, such as /orders or /orders/**.",
            e);
      }
    }
    for (String method : o.getMethods()) {
      if (!METHODS.contains(method.trim().toUpperCase(java.util.Locale.ROOT))) {
        throw new OnceflowConfigurationException(
            p + "methods",
            method,
            "must be HTTP methods among " + METHODS,
            "List methods such as POST, PATCH.");
      }
    }
    if (o.getHeader().isBlank()) {
      throw new OnceflowConfigurationException(
          p + "header",
          o.getHeader(),
          "must name a header",
          "Set a header name such as Idempotency-Key.");
    }
    positive(p + "lease", o.getLease());
    positive(p + "retention", o.getRetention());
    if (o.getRetention().compareTo(o.getLease()) < 0) {
      throw new OnceflowConfigurationException(
          p + "retention",
          o.getRetention(),
          "must be at least the lease (" + o.getLease() + ")",
          "Keep responses at least as long as a lease lives.");
    }
    if (o.getLease().toMillis() < 3) {
      throw new OnceflowConfigurationException(
          p + "lease", o.getLease(), "must be at least 3ms", "Set a lease such as 30s.");
    }
    if (o.getMaxRequestSize().toBytes() < 0
        || o.getMaxRequestSize().toBytes() > Integer.MAX_VALUE) {
      throw new OnceflowConfigurationException(
          p + "max-request-size",
          o.getMaxRequestSize(),
          "must be between 0B and 2GB",
          "Set a size such as 1MB.");
    }
    if (o.getMaxResponseSize().toBytes() < 0
        || o.getMaxResponseSize().toBytes() > Integer.MAX_VALUE) {
      throw new OnceflowConfigurationException(
          p + "max-response-size",
          o.getMaxResponseSize(),
          "must be between 0B and 2GB",
          "Set a size such as 1MB.");
    }
    if (o.getMaxKeyLength() < 1) {
      throw new OnceflowConfigurationException(
          p + "max-key-length",
          o.getMaxKeyLength(),
          "must be positive",
          "Set a length such as 255.");
    }
    if (o.getNamespace().isEmpty()
        || o.getNamespace().contains("{")
        || o.getNamespace().contains("}")) {
      throw new OnceflowConfigurationException(
          p + "namespace",
          o.getNamespace(),
          "must be a non-empty name without braces",
          "Set a name such as http.");
    }
  }

  private static void positive(String property, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new OnceflowConfigurationException(
          property, d, "must be positive", "Set a duration such as 30s.");
    }
  }
}
