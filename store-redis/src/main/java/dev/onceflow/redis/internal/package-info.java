/**
 * Internals of the Redis store: key layout, Lua scripts, batching. Not API: may change in any
 * release without notice.
 */
@NullMarked
package dev.onceflow.redis.internal;

import org.jspecify.annotations.NullMarked;
