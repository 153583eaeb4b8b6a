package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.BrokerOperationException;
import org.assertj.core.api.AbstractThrowableAssert;

/** Assertions on the {@link BrokerOperationException} every broker adapter raises. */
public final class OperationFailures {

  private OperationFailures() {}

  /**
   * Asserts that {@code error} is a {@link BrokerOperationException} of {@code operation} on {@code
   * destination}, whose message names the destination in quotes; returns an assertion on it for
   * more checks.
   */
  public static AbstractThrowableAssert<?, ? extends Throwable> assertOperationFailed(
      Throwable error, String operation, String destination) {
    assertThat(error).isInstanceOf(BrokerOperationException.class);
    BrokerOperationException e = (BrokerOperationException) error;
    assertThat(e.operation()).as("operation of %s", e).isEqualTo(operation);
    assertThat(e.destination()).as("destination of %s", e).isEqualTo(destination);
    return assertThat(error).hasMessageContaining("'" + destination + "'");
  }
}
