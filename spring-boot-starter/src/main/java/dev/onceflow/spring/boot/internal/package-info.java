/**
 * The starter's implementation: how pipelines are assembled from properties, broker bindings,
 * lifecycle, failure analysis and the filter's parts. Internal: it may change in any release
 * without notice; use the types of {@code dev.onceflow.spring.boot} instead.
 */
@NullMarked
package dev.onceflow.spring.boot.internal;

import org.jspecify.annotations.NullMarked;
