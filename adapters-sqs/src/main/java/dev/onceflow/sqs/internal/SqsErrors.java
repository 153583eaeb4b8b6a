package dev.onceflow.sqs.internal;

import dev.onceflow.sqs.SqsOperationException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/** How the adapter reads the SDK's errors. Stateless. */
public final class SqsErrors {

  private SqsErrors() {}

  /** The cause inside the SDK's future wrappers. */
  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** A log-safe one-line description of an error and its root cause. */
  public static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == t ? t.toString() : t + " (caused by " + root + ")";
  }

  /** Whether SQS blamed the request: retrying it unchanged cannot help. */
  public static boolean isSenderFault(Throwable t) {
    if (t instanceof CancellationException) {
      return false;
    }
    if (t instanceof AwsServiceException e) {
      int status = e.statusCode();
      return status >= 400
          && status < 500
          && status != 408
          && status != 429
          && !e.isThrottlingException();
    }
    return false;
  }

  /** SQS's error code of an error, or null for a transport error. */
  public static @Nullable String errorCode(Throwable t) {
    if (t instanceof AwsServiceException e && e.awsErrorDetails() != null) {
      return e.awsErrorDetails().errorCode();
    }
    return null;
  }

  /** Whether SQS said that the queue does not exist. */
  public static boolean isMissingQueue(Throwable t) {
    if (t instanceof QueueDoesNotExistException) {
      return true;
    }
    String code = errorCode(t);
    return code != null
        && (code.endsWith("NonExistentQueue") || code.endsWith("QueueDoesNotExist"));
  }

  /** An {@link SqsOperationException} for a failed call, from the SDK's error. */
  public static SqsOperationException failure(
      String operation, String queue, @Nullable String messageId, Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof SqsOperationException e) {
      return e;
    }
    return new SqsOperationException(
        operation,
        queue,
        messageId,
        errorCode(cause),
        isSenderFault(cause),
        describe(cause),
        cause);
  }
}
