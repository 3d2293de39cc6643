package dev.ioemu.tools.bench.trace;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's baseline really has no trace calls, and the other variants really trace. */
class TraceStrippingClassLoaderTest {
    /** Writes POST code 0x42 to port 80h with every event on, in a fresh loader; returns what was logged. */
    private static String postCodeTrace(boolean strip) throws Exception {
        ClassLoader loader = new TraceStrippingClassLoader(TraceStrippingClassLoaderTest.class.getClassLoader(), strip);
        Class<?> trace = Class.forName("dev.ioemu.devices.trace.Trace", true, loader);
        Class<?> logFile = Class.forName("dev.ioemu.devices.trace.LogFile", true, loader);
        Class<?> portDevice = Class.forName("dev.ioemu.devices.bus.PortDevice", true, loader);
        Class<?> port = Class.forName("dev.ioemu.devices.isa.PostCodePort", true, loader);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        logFile.getMethod("use", PrintStream.class).invoke(null, new PrintStream(bytes, true));
        trace.getMethod("enable", String.class).invoke(null, "*");
        Object pageRegisters = java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {portDevice},
                (proxy, method, args) -> method.getReturnType() == int.class ? 0 : null);
        Object device = port.getConstructor(portDevice).newInstance(pageRegisters);
        Method write = port.getMethod("write", int.class, int.class, int.class);
        write.invoke(device, 0, 1, 0x42);
        trace.getMethod("disableAll").invoke(null);
        return bytes.toString();
    }

    @Test
    void strippedClassesEmitNothingWithEveryEventOn() throws Exception {
        assertTrue(postCodeTrace(false).contains(":ioport80_write POST code 0x42"), "the same classes unstripped trace");
        assertEquals("", postCodeTrace(true));
    }
}
