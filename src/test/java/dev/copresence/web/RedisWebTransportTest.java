package dev.copresence.web;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.RedisResource;

/** SSE and long polling on the Redis registry, against a real Redis this test starts. */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
class RedisWebTransportTest extends WebTransportTests {
}
