package dev.copresence.contract;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.RedisResource;

/**
 * Wire protocol v1 on the Redis registry, against a real Redis this test starts. It trims its logs
 * exactly (one entry per stream node), as the in-memory registry does: a resume at the very edge of
 * the history is then tested, not hidden by the entries an approximate trim keeps.
 */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "stream-node-max-entries", value = "1"))
class RedisContractTest extends ErrorContractTests {
}
