package dev.ioemu.devices.chardev;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ChardevWriterTest {
    @Test
    void postedDataIsWrittenInOrderAndAwaitReturnsAfterItsWrite() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChardevWriter w = new ChardevWriter(out, "test-writer");
        for (int i = 0; i < 100; i++) {
            w.post(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        w.post("last\n".getBytes(StandardCharsets.US_ASCII)).await();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            expected.append("line ").append(i).append('\n');
        }
        expected.append("last\n");
        assertEquals(expected.toString(), out.toString(StandardCharsets.US_ASCII));
        w.close();
        w.join(5000);
    }

    @Test
    void aFailedWriteReleasesWaitersAndDropsLaterData() throws Exception {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        ChardevWriter w = new ChardevWriter(broken, "test-writer");
        w.post(new byte[] {1}).await();   // returns although nothing could be written
        assertFalse(w.isOpen());
        w.post(new byte[] {2}).await();   // dropped at once
        assertEquals(0, w.pending());
    }
}
