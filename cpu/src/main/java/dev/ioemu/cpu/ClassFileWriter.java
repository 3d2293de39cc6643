package dev.ioemu.cpu;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The smallest class-file writer the translator needs (JVM specification §4): a constant pool,
 * instance fields, methods with one code attribute, and the handful of instructions
 * {@link TraceCompiler} emits, with forward and backward branches through labels. Classes are
 * version 49 (Java 5): the JVM verifies them by type inference, so no stack map frames are
 * written.
 */
final class ClassFileWriter {
    static final int VERSION = 49;
    static final int ACC_PUBLIC = 0x0001, ACC_FINAL = 0x0010, ACC_SUPER = 0x0020;

    // Opcodes (JVM specification §6.5).
    static final int ICONST_0 = 0x03, LDC_W = 0x13, LDC2_W = 0x14, BIPUSH = 0x10, SIPUSH = 0x11,
            ILOAD = 0x15, LLOAD = 0x16, ALOAD = 0x19, IALOAD = 0x2E, AALOAD = 0x32,
            IADD = 0x60, LADD = 0x61, ISHL = 0x78, IAND = 0x7E, LCMP = 0x94,
            IFEQ = 0x99, IFNE = 0x9A, IFGT = 0x9D, IF_ICMPEQ = 0x9F, IF_ICMPNE = 0xA0, GOTO = 0xA7,
            RETURN = 0xB1, GETFIELD = 0xB4, PUTFIELD = 0xB5, INVOKESPECIAL = 0xB7, INVOKESTATIC = 0xB8,
            INVOKEINTERFACE = 0xB9, DUP = 0x59;

    private final ByteArrayOutputStream pool = new ByteArrayOutputStream();
    private final DataOutputStream poolOut = new DataOutputStream(pool);
    private final Map<String, Integer> poolIndex = new HashMap<>();
    private int poolCount = 1;
    private final int thisClass;
    private final int superClass;
    private final int[] interfaces;
    private final List<byte[]> fields = new ArrayList<>();
    private final List<byte[]> methods = new ArrayList<>();
    private final int codeAttribute;

    ClassFileWriter(String name, String superName, String... interfaceNames) {
        thisClass = classRef(name);
        superClass = classRef(superName);
        interfaces = new int[interfaceNames.length];
        for (int i = 0; i < interfaceNames.length; i++) {
            interfaces[i] = classRef(interfaceNames[i]);
        }
        codeAttribute = utf8("Code");
    }

    // ---- constant pool ----

    private int entry(String key, int slots, IoWriter body) {
        Integer known = poolIndex.get(key);
        if (known != null) {
            return known;
        }
        int index = poolCount;
        try {
            body.write(poolOut);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory class file", e);
        }
        poolCount += slots;
        poolIndex.put(key, index);
        return index;
    }

    private interface IoWriter {
        void write(DataOutputStream out) throws IOException;
    }

    int utf8(String s) {
        return entry("U" + s, 1, o -> {
            o.writeByte(1);
            o.writeUTF(s);
        });
    }

    int classRef(String internalName) {
        int n = utf8(internalName);
        return entry("C" + internalName, 1, o -> {
            o.writeByte(7);
            o.writeShort(n);
        });
    }

    int intConstant(int v) {
        return entry("I" + v, 1, o -> {
            o.writeByte(3);
            o.writeInt(v);
        });
    }

    int longConstant(long v) {
        return entry("J" + v, 2, o -> {
            o.writeByte(5);
            o.writeLong(v);
        });
    }

    private int nameAndType(String name, String descriptor) {
        int n = utf8(name);
        int d = utf8(descriptor);
        return entry("N" + name + ":" + descriptor, 1, o -> {
            o.writeByte(12);
            o.writeShort(n);
            o.writeShort(d);
        });
    }

    private int memberRef(int tag, String owner, String name, String descriptor) {
        int c = classRef(owner);
        int nt = nameAndType(name, descriptor);
        return entry("M" + tag + owner + "." + name + ":" + descriptor, 1, o -> {
            o.writeByte(tag);
            o.writeShort(c);
            o.writeShort(nt);
        });
    }

    int fieldRef(String owner, String name, String descriptor) {
        return memberRef(9, owner, name, descriptor);
    }

    int methodRef(String owner, String name, String descriptor) {
        return memberRef(10, owner, name, descriptor);
    }

    int interfaceMethodRef(String owner, String name, String descriptor) {
        return memberRef(11, owner, name, descriptor);
    }

    // ---- members ----

    void field(int access, String name, String descriptor) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(b);
        try {
            o.writeShort(access);
            o.writeShort(utf8(name));
            o.writeShort(utf8(descriptor));
            o.writeShort(0);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory class file", e);
        }
        fields.add(b.toByteArray());
    }

    void method(int access, String name, String descriptor, Code code) {
        byte[] bytecode = code.finish();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(b);
        try {
            o.writeShort(access);
            o.writeShort(utf8(name));
            o.writeShort(utf8(descriptor));
            o.writeShort(1);
            o.writeShort(codeAttribute);
            o.writeInt(12 + bytecode.length);
            o.writeShort(code.maxStack);
            o.writeShort(code.maxLocals);
            o.writeInt(bytecode.length);
            o.write(bytecode);
            o.writeShort(0);    // exception table
            o.writeShort(0);    // attributes
        } catch (IOException e) {
            throw new IllegalStateException("in-memory class file", e);
        }
        methods.add(b.toByteArray());
    }

    byte[] toByteArray() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(b);
        try {
            o.writeInt(0xCAFEBABE);
            o.writeShort(0);
            o.writeShort(VERSION);
            o.writeShort(poolCount);
            poolOut.flush();
            o.write(pool.toByteArray());
            o.writeShort(ACC_PUBLIC | ACC_FINAL | ACC_SUPER);
            o.writeShort(thisClass);
            o.writeShort(superClass);
            o.writeShort(interfaces.length);
            for (int i : interfaces) {
                o.writeShort(i);
            }
            o.writeShort(fields.size());
            for (byte[] f : fields) {
                o.write(f);
            }
            o.writeShort(methods.size());
            for (byte[] m : methods) {
                o.write(m);
            }
            o.writeShort(0);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory class file", e);
        }
        return b.toByteArray();
    }

    /** A branch target inside one {@link Code}. */
    static final class Label {
        int position = -1;
        final List<Integer> uses = new ArrayList<>();
    }

    /** One method body: bytes, labels and the limits the class file states. */
    final class Code {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final List<Label> labels = new ArrayList<>();
        int maxStack;
        int maxLocals;

        Code(int maxStack, int maxLocals) {
            this.maxStack = maxStack;
            this.maxLocals = maxLocals;
        }

        Code op(int opcode) {
            bytes.write(opcode);
            return this;
        }

        Code op1(int opcode, int operand) {
            bytes.write(opcode);
            bytes.write(operand);
            return this;
        }

        Code op2(int opcode, int operand) {
            bytes.write(opcode);
            bytes.write(operand >>> 8);
            bytes.write(operand);
            return this;
        }

        Code iconst(int v) {
            if (v >= -1 && v <= 5) {
                return op(ICONST_0 + v);
            }
            if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
                return op1(BIPUSH, v & 0xFF);
            }
            if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
                return op2(SIPUSH, v & 0xFFFF);
            }
            return op2(LDC_W, intConstant(v));
        }

        Code lconst(long v) {
            return op2(LDC2_W, longConstant(v));
        }

        Code load(int opcode, int local) {
            return op1(opcode, local);
        }

        Code getField(String owner, String name, String descriptor) {
            return op2(GETFIELD, fieldRef(owner, name, descriptor));
        }

        Code putField(String owner, String name, String descriptor) {
            return op2(PUTFIELD, fieldRef(owner, name, descriptor));
        }

        Code invokeSpecial(String owner, String name, String descriptor) {
            return op2(INVOKESPECIAL, methodRef(owner, name, descriptor));
        }

        Code invokeStatic(String owner, String name, String descriptor) {
            return op2(INVOKESTATIC, methodRef(owner, name, descriptor));
        }

        Code invokeInterface(String owner, String name, String descriptor, int argumentSlots) {
            op2(INVOKEINTERFACE, interfaceMethodRef(owner, name, descriptor));
            bytes.write(argumentSlots + 1);
            bytes.write(0);
            return this;
        }

        Label label() {
            Label l = new Label();
            labels.add(l);
            return l;
        }

        Code place(Label l) {
            l.position = bytes.size();
            return this;
        }

        /** A branch instruction to {@code target}: the 16-bit offset is patched in {@link #finish}. */
        Code branch(int opcode, Label target) {
            target.uses.add(bytes.size());
            bytes.write(opcode);
            bytes.write(0);
            bytes.write(0);
            return this;
        }

        int size() {
            return bytes.size();
        }

        byte[] finish() {
            byte[] b = bytes.toByteArray();
            for (Label l : labels) {
                if (l.position < 0 && !l.uses.isEmpty()) {
                    throw new IllegalStateException("branch to a label never placed");
                }
                for (int at : l.uses) {
                    int offset = l.position - at;
                    if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE) {
                        throw new IllegalStateException("branch offset " + offset + " (expected: 16 bits)");
                    }
                    b[at + 1] = (byte) (offset >> 8);
                    b[at + 2] = (byte) offset;
                }
            }
            return b;
        }
    }
}
