package dev.onceflow.spring.boot.internal;

import dev.onceflow.spring.boot.OnceflowConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Prints an {@link OnceflowConfigurationException} that failed startup as Spring Boot's
 * "APPLICATION FAILED TO START" report: the property and the value as the description, and what to
 * do as the action.
 */
public final class OnceflowFailureAnalyzer
    extends AbstractFailureAnalyzer<OnceflowConfigurationException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, OnceflowConfigurationException cause) {
    return new FailureAnalysis(
        "onceflow could not start: " + cause.getMessage(), cause.action(), cause);
  }
}
