package dev.copresence.contract;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.RedisResource;

/** Wire protocol v1 on the Redis registry, against a real Redis this test starts. */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
class RedisContractTest extends ErrorContractTests {
}
