package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;

/**
 * Handlers specialised at decode time (issue 10, "Speed by design"): where a table row's general
 * handler would branch on something the decoder already knows (the condition of a Jcc, the
 * element size of a string instruction without REP), {@link #choose} picks a handler with that
 * branch removed. Each one does exactly what the row's handler does for that case; the row (and
 * its mnemonic for traces) stays the same.
 */
final class Specialized {
    private Specialized() {
    }

    private static final Form.Handler[] JCC = {
        Specialized::jo, Specialized::jno, Specialized::jb, Specialized::jnb,
        Specialized::jz, Specialized::jnz, Specialized::jbe, Specialized::jnbe,
        Specialized::js, Specialized::jns, Specialized::jp, Specialized::jnp,
        Specialized::jl, Specialized::jnl, Specialized::jle, Specialized::jnle,
    };

    /** The handler to run for an instruction decoded as {@code form} with these prefixes. */
    static Form.Handler choose(CpuModel model, Form form, int opcode, int rep) {
        Form.Handler h = form.handler();
        if (h == OpcodeTable.JCC_SHORT || h == OpcodeTable.JCC_NEAR) {
            return JCC[opcode & 0xF];
        }
        // Without REP, and on the 386 only: the 80286 advances SI/DI before the access (its
        // fault bookkeeping stays with the general handler).
        if (rep == 0 && model.is386()) {
            switch (opcode) {
                case 0xA4 -> { return Specialized::movsb; }
                case 0xA5 -> { return Specialized::movsv; }
                case 0xAA -> { return Specialized::stosb; }
                case 0xAB -> { return Specialized::stosv; }
                case 0xAC -> { return Specialized::lodsb; }
                case 0xAD -> { return Specialized::lodsv; }
                default -> { }
            }
        }
        return h;
    }

    // ---- Jcc: one handler per condition (Intel SDM vol. 2, Jcc) ----

    private static void jump(Cpu c) {
        int target = c.eip + c.imm;
        c.eip = c.o32 ? target : target & 0xFFFF;
    }

    private static void jo(Cpu c) {
        if (c.of()) {
            jump(c);
        }
    }

    private static void jno(Cpu c) {
        if (!c.of()) {
            jump(c);
        }
    }

    private static void jb(Cpu c) {
        if (c.cf()) {
            jump(c);
        }
    }

    private static void jnb(Cpu c) {
        if (!c.cf()) {
            jump(c);
        }
    }

    private static void jz(Cpu c) {
        if (c.zf()) {
            jump(c);
        }
    }

    private static void jnz(Cpu c) {
        if (!c.zf()) {
            jump(c);
        }
    }

    private static void jbe(Cpu c) {
        if (c.cf() || c.zf()) {
            jump(c);
        }
    }

    private static void jnbe(Cpu c) {
        if (!(c.cf() || c.zf())) {
            jump(c);
        }
    }

    private static void js(Cpu c) {
        if (c.sf()) {
            jump(c);
        }
    }

    private static void jns(Cpu c) {
        if (!c.sf()) {
            jump(c);
        }
    }

    private static void jp(Cpu c) {
        if (c.pf()) {
            jump(c);
        }
    }

    private static void jnp(Cpu c) {
        if (!c.pf()) {
            jump(c);
        }
    }

    private static void jl(Cpu c) {
        if (c.sf() != c.of()) {
            jump(c);
        }
    }

    private static void jnl(Cpu c) {
        if (c.sf() == c.of()) {
            jump(c);
        }
    }

    private static void jle(Cpu c) {
        if (c.zf() || c.sf() != c.of()) {
            jump(c);
        }
    }

    private static void jnle(Cpu c) {
        if (!(c.zf() || c.sf() != c.of())) {
            jump(c);
        }
    }

    // ---- string instructions without REP on the 386: one element, SI/DI advanced after it ----

    private static int index(Cpu c, int i) {
        return c.a32 ? c.r[i] : c.r[i] & 0xFFFF;
    }

    private static void advance(Cpu c, int i, int size) {
        int step = c.df() ? -size : size;
        if (c.a32) {
            c.r[i] += step;
        } else {
            c.setReg16(i, c.r[i] + step);
        }
    }

    private static void movsb(Cpu c) {
        int v = c.read8(c.dataSegment(), index(c, ESI));
        c.write8(ES, index(c, EDI), v);
        advance(c, ESI, 1);
        advance(c, EDI, 1);
    }

    private static void movsv(Cpu c) {
        if (c.o32) {
            int v = c.read32(c.dataSegment(), index(c, ESI));
            c.write32(ES, index(c, EDI), v);
            advance(c, ESI, 4);
            advance(c, EDI, 4);
        } else {
            int v = c.read16(c.dataSegment(), index(c, ESI));
            c.write16(ES, index(c, EDI), v);
            advance(c, ESI, 2);
            advance(c, EDI, 2);
        }
    }

    private static void stosb(Cpu c) {
        c.write8(ES, index(c, EDI), c.r[EAX]);
        advance(c, EDI, 1);
    }

    private static void stosv(Cpu c) {
        if (c.o32) {
            c.write32(ES, index(c, EDI), c.r[EAX]);
            advance(c, EDI, 4);
        } else {
            c.write16(ES, index(c, EDI), c.r[EAX]);
            advance(c, EDI, 2);
        }
    }

    private static void lodsb(Cpu c) {
        c.setReg8(EAX, c.read8(c.dataSegment(), index(c, ESI)));
        advance(c, ESI, 1);
    }

    private static void lodsv(Cpu c) {
        if (c.o32) {
            c.r[EAX] = c.read32(c.dataSegment(), index(c, ESI));
            advance(c, ESI, 4);
        } else {
            c.setReg16(EAX, c.read16(c.dataSegment(), index(c, ESI)));
            advance(c, ESI, 2);
        }
    }
}
