/** Internals of the pipeline. Not API: may change in any release without notice. */
@NullMarked
package dev.onceflow.internal;

import org.jspecify.annotations.NullMarked;
