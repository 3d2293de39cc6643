package dev.ioemu.tools.bench.trace;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;

/**
 * Loads ioemu's own classes ({@code dev.ioemu.*}) afresh, child-first, optionally with every trace
 * call site removed: each read of {@code TraceEvent.enabled} becomes the constant false, so the
 * JIT drops the guarded block as if it had never been written — the baseline "trace calls
 * removed" of the same code. Everything else comes from the parent. Each benchmark variant gets
 * its own loader, so the variants never share a class (or its JIT profile).
 */
final class TraceStrippingClassLoader extends ClassLoader {
    private static final String EVENT = "dev/ioemu/devices/trace/TraceEvent";
    private final boolean strip;

    TraceStrippingClassLoader(ClassLoader parent, boolean strip) {
        super(parent);
        this.strip = strip;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.startsWith("dev.ioemu.") || name.startsWith("dev.ioemu.tools.bench.trace.")) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                byte[] bytes;
                try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                    if (in == null) {
                        throw new ClassNotFoundException(name);
                    }
                    bytes = in.readAllBytes();
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
                if (strip) {
                    bytes = stripTraceCalls(bytes);
                }
                c = defineClass(name, bytes, 0, bytes.length);
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    /** Rewrites {@code GETFIELD TraceEvent.enabled} to {@code POP; ICONST_0} (same stack shape, so frames stay valid). */
    static byte[] stripTraceCalls(byte[] classFile) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
                    @Override
                    public void visitFieldInsn(int opcode, String owner, String field, String desc) {
                        if (opcode == Opcodes.GETFIELD && owner.equals(EVENT) && field.equals("enabled")) {
                            super.visitInsn(Opcodes.POP);
                            super.visitInsn(Opcodes.ICONST_0);
                        } else {
                            super.visitFieldInsn(opcode, owner, field, desc);
                        }
                    }
                };
            }
        }, 0);
        return writer.toByteArray();
    }
}
