package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves pooled bounce buffers outstanding in any {@link AlignedBufferPool}
 * (STYLE.md: "A leaked buffer fails the test"). Use with {@code @ExtendWith(NoLeakedBuffers.class)}.
 */
final class NoLeakedBuffers implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeakedBuffers.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", AlignedBufferPool.outstandingInAllPools());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        int before = context.getStore(NS).get("before", Integer.class);
        assertEquals(before, AlignedBufferPool.outstandingInAllPools(),
                "pooled buffers leaked by " + context.getDisplayName());
    }
}
