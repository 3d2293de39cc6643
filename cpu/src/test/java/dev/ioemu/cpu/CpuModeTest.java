package dev.ioemu.cpu;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest programs (assembled with nasm) that drive the CPU through the paths boot loaders use:
 * real mode → 32-bit protected mode → 16-bit protected mode → real mode with a 4 GiB data limit
 * (unreal mode), exceptions through the IDT with error codes, hardware interrupts with the STI
 * shadow, HLT, the firmware trap port and triple faults.
 */
class CpuModeTest {
    private static final String GDT = """
            gdt:    dq 0
                    dq 0x00cf9a000000ffff   ; 08: code32, flat 4 GiB
                    dq 0x00cf92000000ffff   ; 10: data32, flat 4 GiB
                    dq 0x00009a000000ffff   ; 18: code16, base 0, 64 KiB
                    dq 0x008f92000000ffff   ; 20: data16, base 0, 4 GiB (G=1, B=0)
            gdtr:   dw gdtr - gdt - 1
                    dd gdt
            """;

    @Nested
    class ModeSwitches {
        @Test
        void realToProtected32ToRealKeepsUnrealLimitAndRuns386Instructions() {
            TestMachine m = new TestMachine(CpuModel.I386, 4 << 20);
            m.load("""
                    bits 16
                        cli
                        xor ax, ax
                        mov ds, ax
                        lgdt [gdtr]
                        mov eax, cr0
                        or al, 1
                        mov cr0, eax
                        jmp 0x08:pm32
                    bits 32
                    pm32:
                        mov ax, 0x10
                        mov ds, ax
                        mov es, ax
                        mov ss, ax
                        mov esp, 0x90000
                        mov dword [0x100000], 0x12345678
                        movzx ebx, byte [0x100003]
                        mov ecx, 0x80000001
                        bt ecx, 31
                        setc dl
                        mov eax, 0x0000ffff
                        shld eax, ecx, 4
                        imul esi, eax, 3
                        push esi
                        pop edi
                        jmp 0x18:pm16
                    bits 16
                    pm16:
                        mov ax, 0x20
                        mov ds, ax
                        mov ss, ax
                        mov eax, cr0
                        and al, 0xfe
                        mov cr0, eax
                        jmp 0:real
                    real:
                        xor ax, ax
                        mov ss, ax
                        mov ds, ax
                        mov esi, 0x100000
                        mov eax, [esi]
                        out 0xe0, al
                        hlt
                    """ + GDT);
            StopReason why = m.cpu.run(1000);
            assertEquals(StopReason.STOP_REQUESTED, why, m.cpu.toString());
            int[] t = m.traps.get(0);
            assertEquals(0x12345678, t[Cpu.EAX], "unreal-mode read above 1 MiB");
            assertEquals(0x12, t[Cpu.EBX], "MOVZX");
            assertEquals(1, t[Cpu.EDX] & 0xFF, "BT/SETC");
            assertEquals(0x000F_FFF8 * 3, t[Cpu.EDI], "SHLD, IMUL r,r/m,imm, PUSH/POP in 32-bit PM");
            assertFalse(m.cpu.isProtectedMode());
            assertEquals(0, m.cpu.segmentBase(Cpu.DS));
            assertEquals(0xFFFF_FFFF, m.cpu.segmentLimit(Cpu.DS), "real-mode load keeps the cached limit");
            assertEquals(StopReason.SHUTDOWN, m.cpu.run(10), "HLT with IF=0");
        }

        @Test
        void realModeAccessBeyondTheSegmentLimitIsGeneralProtection() {
            TestMachine m = new TestMachine(CpuModel.I386, 2 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        mov ss, ax
                        mov sp, 0x7000
                        mov word [13*4], gp
                        mov word [13*4+2], 0
                        mov esi, 0x10000
                        mov al, [esi]
                        hlt
                    gp: pop bx
                        out 0xe0, al
                    """);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(100));
            int faultingIp = m.traps.get(0)[Cpu.EBX] & 0xFFFF;
            assertEquals(0x67, m.memory.readByte(faultingIp) & 0xFF, "#GP returns to the faulting instruction (its 67h prefix)");
        }
    }

    @Nested
    class ProtectedModeExceptions {
        @Test
        void badSelectorAndUndefinedOpcodeGoThroughTheIdtWithErrorCode() {
            TestMachine m = new TestMachine(CpuModel.I386, 2 << 20);
            m.load("""
                    bits 16
                        cli
                        xor ax, ax
                        mov ds, ax
                        lgdt [gdtr]
                        lidt [idtr]
                        mov eax, cr0
                        or al, 1
                        mov cr0, eax
                        jmp 0x08:pm32
                    bits 32
                    pm32:
                        mov ax, 0x10
                        mov ds, ax
                        mov ss, ax
                        mov esp, 0x90000
                        mov ax, 0x1234
                    bad_load:
                        mov es, ax
                    bad_opcode:
                        db 0x0f, 0xff
                        mov eax, esp
                        out 0xe0, al
                        hlt
                    gp_handler:
                        pop dword [0x8000]
                        mov eax, [esp]
                        mov [0x8004], eax
                        add dword [esp], 2
                        iretd
                    ud_handler:
                        mov eax, [esp]
                        mov [0x8008], eax
                        add dword [esp], 2
                        iretd
                    idt:
                        times 6 dq 0
                        dw ud_handler, 0x08, 0x8e00, 0
                        times 6 dq 0
                        dw gp_handler, 0x08, 0x8e00, 0
                    idt_end:
                    idtr: dw idt_end - idt - 1
                          dd idt
                    """ + GDT);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            assertEquals(0x1234, m.memory.readDword(0x8000), "#GP error code = the selector");
            int badLoad = m.memory.readDword(0x8004);
            assertEquals(0x8E, m.memory.readByte(badLoad), "#GP pushed the faulting MOV ES");
            int badOpcode = m.memory.readDword(0x8008);
            assertEquals(badLoad + 2, badOpcode);
            assertEquals(0x0F, m.memory.readByte(badOpcode), "#UD pushed the undefined opcode's address");
            assertEquals(java.util.List.of("0fff"), m.unimplemented, "the listener names the bytes");
            assertEquals(0x90000, m.traps.get(0)[Cpu.EAX], "IRETD restored ESP");
        }

        @Test
        void notPresentSegmentAndAccessBeyondTheLimitRaiseNpAndGpWithErrorCodes() {
            TestMachine m = new TestMachine(CpuModel.I386, 2 << 20);
            m.load("""
                    bits 16
                        cli
                        xor ax, ax
                        mov ds, ax
                        lgdt [gdtr2]
                        lidt [idtr]
                        mov eax, cr0
                        or al, 1
                        mov cr0, eax
                        jmp 0x08:pm32
                    bits 32
                    pm32:
                        mov ax, 0x10
                        mov ds, ax
                        mov ss, ax
                        mov esp, 0x90000
                        mov ax, 0x18
                        mov es, ax              ; not present: #NP(0x18)
                        mov ax, 0x20
                        mov fs, ax              ; 1-byte limit data segment
                        mov eax, [fs:0]         ; beyond the limit: #GP(0)
                        out 0xe0, al
                    np_handler:
                        pop dword [0x8000]
                        add dword [esp], 2
                        iretd
                    gp_handler:
                        pop dword [0x8004]
                        add dword [esp], 4
                        iretd
                    idt:
                        times 11 dq 0
                        dw np_handler, 0x08, 0x8e00, 0
                        dq 0
                        dw gp_handler, 0x08, 0x8e00, 0
                    idt_end:
                    idtr: dw idt_end - idt - 1
                          dd idt
                    gdt2:   dq 0
                            dq 0x00cf9a000000ffff   ; 08: code32
                            dq 0x00cf92000000ffff   ; 10: data32
                            dq 0x00cf12000000ffff   ; 18: data32, P=0
                            dq 0x0040920000000000   ; 20: data32, limit 0 (one byte)
                    gdtr2:  dw gdtr2 - gdt2 - 1
                            dd gdt2
                    """);
            m.memory.writeDword(0x8004, -1);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            assertEquals(0x18, m.memory.readDword(0x8000), "#NP error code = the selector");
            assertEquals(0, m.memory.readDword(0x8004), "#GP(0) for an access beyond the limit");
        }

        @Test
        void exceptionWithNoUsableHandlerIsATripleFault() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        lidt [idtr]
                        int3
                    idtr: dw 0
                          dd 0
                    """);
            assertEquals(StopReason.TRIPLE_FAULT, m.cpu.run(100));
        }
    }

    @Nested
    class Interrupts {
        private static final String HANDLER_SETUP = """
                bits 16
                    cli
                    xor ax, ax
                    mov ds, ax
                    mov ss, ax
                    mov sp, 0x7000
                    mov word [0x20*4], handler
                    mov word [0x20*4+2], 0
                """;

        @Test
        void hltWithInterruptsEnabledWaitsAndAnInterruptResumesIt() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load(HANDLER_SETUP + """
                        sti
                        hlt
                        mov [0x500], bx
                        cli
                        hlt
                    handler:
                        mov bx, 0xbeef
                        iret
                    """);
            assertEquals(StopReason.HALTED, m.cpu.run(1000));
            assertEquals(StopReason.HALTED, m.cpu.run(1000), "no interrupt: still waiting");
            m.pendingVector = 0x20;
            assertEquals(StopReason.SHUTDOWN, m.cpu.run(1000));
            assertEquals(1, m.acknowledged);
            assertEquals(0xBEEF, m.memory.readWord(0x500));
        }

        @Test
        void stiDelaysAPendingInterruptByOneInstruction() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load(HANDLER_SETUP + """
                        xor bx, bx
                        mov ax, 0
                        sti
                        mov ax, 1
                        mov ax, 2
                        cli
                        hlt
                    handler:
                        mov bx, ax
                        out 0xe0, al
                        iret
                    """);
            m.pendingVector = 0x20;
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000));
            assertEquals(1, m.traps.get(0)[Cpu.EBX] & 0xFFFF, "the instruction after STI ran first");
        }

        @Test
        void nmiIsTakenWithInterruptsDisabledAndHeldUntilIret() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load(HANDLER_SETUP + """
                        mov word [2*4], nmi
                        mov word [2*4+2], 0
                        xor cx, cx
                    spin:
                        cmp cx, 2
                        jne spin
                        out 0xe0, al
                    nmi:
                        inc cx
                        iret
                    handler:
                        iret
                    """);
            assertEquals(StopReason.BUDGET_EXHAUSTED, m.cpu.run(50), "spinning, no NMI yet");
            m.nmiCount = 2;
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            assertEquals(2, m.traps.get(0)[Cpu.ECX] & 0xFFFF, "both NMIs ran, IF=0 throughout");
        }

        @Test
        void trapPortSeesEipPastTheOutAndMayRewriteRegisters() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        mov al, 7
                    trap:
                        out 0xe0, al
                    after:
                        mov [0x600], ax
                        cli
                        hlt
                    """);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(100));
            int eip = m.traps.get(0)[8];
            assertEquals(0xE6, m.memory.readByte(eip - 2), "EIP points just past OUT imm8,AL");
            m.cpu.setRegister(Cpu.EAX, 0x4242);
            assertEquals(StopReason.SHUTDOWN, m.cpu.run(100));
            assertEquals(0x4242, m.memory.readWord(0x600), "a register written by the trap is seen by the guest");
        }
    }

    @Nested
    class Memory {
        @Test
        void a20GateWrapsAddressesAboveOneMegabyte() {
            TestMachine m = new TestMachine(CpuModel.I386, 2 << 20);
            m.memory.writeByte(0x000000, 0x55);
            m.memory.writeByte(0x100000, 0xAA);
            String program = """
                    bits 16
                        mov ax, 0xffff
                        mov ds, ax
                        mov al, [0x10]
                        out 0xe0, al
                        hlt
                    """;
            m.load(program);
            m.cpu.run(100);
            assertEquals(0xAA, m.traps.get(0)[9], "A20 on: FFFF:0010 is 0x100000");
            m.memory.setA20(false);
            m.load(program);
            m.cpu.run(100);
            assertEquals(0x55, m.traps.get(1)[9], "A20 off: FFFF:0010 wraps to 0");
        }

        @Test
        void romIgnoresWritesAndUnassignedSpaceReadsAllOnes() {
            TestMachine m = new TestMachine(CpuModel.I386, 640 << 10);
            java.nio.ByteBuffer rom = java.nio.ByteBuffer.allocateDirect(64 << 10);
            rom.put(0x10, (byte) 0x3C);
            m.memory.mapRom(0xF0000, rom);
            m.load("""
                    bits 16
                        mov ax, 0xf000
                        mov ds, ax
                        mov byte [0x10], 0x99
                        mov bl, [0x10]
                        mov ax, 0xb000
                        mov es, ax
                        mov cx, [es:0x20]
                        out 0xe0, al
                    """);
            m.cpu.run(100);
            int[] t = m.traps.get(0);
            assertEquals(0x3C, t[Cpu.EBX] & 0xFF, "ROM kept its byte");
            assertEquals(0xFFFF, t[Cpu.ECX] & 0xFFFF, "unassigned reads all-ones");
        }

        @Test
        void rewritingAnInstructionThatAlreadyRanDropsItsDecodedCopy() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        xor bx, bx
                        mov cx, 3
                    again:
                    patch:
                        add bx, 1
                        mov byte [patch + 2], 0x10
                        loop again
                        out 0xe0, al
                    """);
            m.cpu.run(100);
            assertEquals(1 + 0x10 + 0x10, m.traps.get(0)[Cpu.EBX] & 0xFFFF,
                    "the second and third passes run the patched ADD BX,10h");
        }

        @Test
        void repMovsdWithAddressSizePrefixCopiesAbove64KiBInUnrealMode() {
            TestMachine m = new TestMachine(CpuModel.I386, 4 << 20);
            for (int i = 0; i < 64; i++) {
                m.memory.writeByte(0x100000 + i, i + 1);
            }
            m.load("""
                    bits 16
                        cli
                        xor ax, ax
                        mov ds, ax
                        lgdt [gdtr]
                        mov eax, cr0
                        or al, 1
                        mov cr0, eax
                        mov bx, 0x20
                        mov ds, bx
                        mov es, bx
                        and al, 0xfe
                        mov cr0, eax
                        xor ax, ax
                        mov ds, ax
                        mov es, ax
                        cld
                        mov esi, 0x100000
                        mov edi, 0x200000
                        mov ecx, 16
                        a32 rep movsd
                        out 0xe0, al
                    """ + GDT);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            for (int i = 0; i < 64; i++) {
                assertEquals(i + 1, m.memory.readByte(0x200000 + i), "byte " + i);
            }
            int[] t = m.traps.get(0);
            assertEquals(0, t[Cpu.ECX]);
            assertEquals(0x100040, t[Cpu.ESI]);
            assertEquals(0x200040, t[Cpu.EDI]);
        }

        @Test
        void repStringInstructionsKeepElementSemanticsAcrossPagesOverlapsAndRom() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            java.nio.ByteBuffer rom = java.nio.ByteBuffer.allocateDirect(4096);
            m.memory.mapRom(0xF0000, rom);
            for (int i = 0; i < 16; i++) {
                m.memory.writeByte(0x30000 + i, 0xA0 + i);
            }
            m.load("""
                    bits 16
                        cld
                        mov ax, 0x2000
                        mov es, ax
                        mov di, 0x0ffa          ; STOSD across the 0x21000 page boundary
                        mov eax, 0x11223344
                        mov cx, 4
                        rep stosd
                        mov ax, 0x3000
                        mov ds, ax
                        mov es, ax
                        xor si, si              ; MOVSB with DI = SI + 1 replicates byte 0
                        mov di, 1
                        mov cx, 8
                        rep movsb
                        mov si, 9               ; MOVSB with DI = SI - 1 shifts bytes 9..15 down
                        mov di, 8
                        mov cx, 7
                        rep movsb
                        mov ax, 0xf000          ; STOSW into ROM is dropped
                        mov es, ax
                        xor di, di
                        mov cx, 4
                        rep stosw
                        mov ax, 0x4000          ; STOSB wrapping DI at 64 KiB
                        mov es, ax
                        mov di, 0xfffe
                        mov al, 0x5a
                        mov cx, 4
                        rep stosb
                        out 0xe0, al
                    """);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            for (int i = 0; i < 4; i++) {
                assertEquals(0x11223344, m.memory.readDword(0x20FFA + 4 * i), "dword " + i);
            }
            for (int i = 0; i <= 7; i++) {
                assertEquals(0xA0, m.memory.readByte(0x30000 + i), "replicated byte " + i);
            }
            for (int i = 8; i < 15; i++) {
                assertEquals(0xA0 + i + 1, m.memory.readByte(0x30000 + i), "shifted byte " + i);
            }
            assertEquals(0, rom.get(0), "ROM unchanged");
            assertEquals(0x5A, m.memory.readByte(0x4FFFE));
            assertEquals(0x5A, m.memory.readByte(0x4FFFF));
            assertEquals(0x5A, m.memory.readByte(0x40000), "DI wrapped to 0");
            assertEquals(0x5A, m.memory.readByte(0x40001));
            assertEquals(0, m.memory.readByte(0x50000));
            int[] t = m.traps.get(0);
            assertEquals(2, t[Cpu.EDI] & 0xFFFF);
            assertEquals(0, t[Cpu.ECX] & 0xFFFF);
        }

        @Test
        void repMovsOverCodeThatAlreadyRanDropsItsDecodedCopy() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        mov es, ax
                        cld
                        mov dx, 2
                    again:
                    patch:
                        mov bl, 0x00
                        nop
                        nop
                        mov si, replacement
                        mov di, patch
                        mov cx, 4
                        rep movsb
                        dec dx
                        jnz again
                        out 0xe0, al
                    replacement:
                        mov bl, 0x42
                        nop
                        nop
                    """);
            assertEquals(StopReason.STOP_REQUESTED, m.cpu.run(1000), m.cpu.toString());
            assertEquals(0x42, m.traps.get(0)[Cpu.EBX] & 0xFF);
        }

        @Test
        void selfModifyingCodeIsSeenOnTheNextFetch() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        mov byte [patch + 1], 0x42
                    patch:
                        mov bl, 0x00
                        out 0xe0, al
                    """);
            m.cpu.run(100);
            assertEquals(0x42, m.traps.get(0)[Cpu.EBX] & 0xFF);
        }

        @Test
        void patchingTheTailOfAnInstructionThatAlreadyRanIsSeenWhileDataStoresInItsPageAreNot() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor ax, ax
                        mov ds, ax
                        xor cx, cx
                    again:
                    patch:
                        mov dword [0x600], 0x11111111   ; 9 bytes: the store below hits its last one
                        mov eax, [0x600]
                        out 0xe0, al
                        mov byte [data], 1              ; data next to the code: nothing to redo
                        mov byte [patch + 8], 0x22
                        inc cx
                        cmp cx, 2
                        jne again
                        hlt
                    data: db 0
                    """);
            m.cpu.run(100);     // each trap ends the run
            m.cpu.run(100);
            assertEquals(2, m.traps.size());
            assertEquals(0x11111111, m.traps.get(0)[Cpu.EAX]);
            assertEquals(0x22111111, m.traps.get(1)[Cpu.EAX]);
        }
    }

    @Nested
    class Identification {
        @Test
        void cpuidAnswersVendorAndRdtscCountsInstructions() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            m.load("""
                    bits 16
                        xor eax, eax
                        cpuid
                        mov [0x500], ebx
                        mov [0x504], edx
                        mov [0x508], ecx
                        rdtsc
                        mov esi, eax
                        nop
                        nop
                        rdtsc
                        sub eax, esi
                        out 0xe0, al
                    """);
            m.cpu.run(100);
            byte[] vendor = new byte[12];
            m.memory.read(0x500, vendor, 0, 12);
            assertEquals("GenuineIntel", new String(vendor, java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals(4, m.traps.get(0)[Cpu.EAX], "RDTSC advances by retired instructions");
        }

        @Test
        void instructionTracingNamesEachFormInOrder() {
            TestMachine m = new TestMachine(CpuModel.I386, 1 << 20);
            java.util.List<String> seen = new java.util.ArrayList<>();
            m.cpu.setListener(new CpuListener() {
                @Override
                public void instruction(int cs, int eip, String form, int length) {
                    seen.add(String.format("%04x:%04x %s/%d", cs, eip, form, length));
                }
            });
            m.load("""
                    bits 16
                        mov ax, 5
                        add ax, bx
                        cli
                        hlt
                    """);
            m.cpu.run(1);
            assertEquals(java.util.List.of(), seen, "off by default");
            m.cpu.setInstructionTracing(true);
            m.cpu.run(10);
            assertEquals(java.util.List.of("0000:7c03 ADD Ev,Gv/2", "0000:7c05 CLI/1", "0000:7c06 HLT/1"), seen);
        }

        @Test
        void an8086ExecutesPopCsWhereLaterModelsDecode0F() {
            TestMachine m = new TestMachine(CpuModel.I8086, 1 << 20);
            byte[] code = {0x0F};
            m.memory.write(0x7C00, code, 0, 1);
            m.memory.writeWord(0x6FFE, 0x1234);
            m.cpu.setSegmentRealMode(Cpu.CS, 0);
            m.cpu.setSegmentRealMode(Cpu.SS, 0);
            m.cpu.setRegister(Cpu.ESP, 0x6FFE);
            m.cpu.setEip(0x7C00);
            m.cpu.run(1);
            assertEquals(0x1234, m.cpu.segmentSelector(Cpu.CS));
            assertEquals(0x7000, m.cpu.register(Cpu.ESP));
            assertTrue(m.unimplemented.isEmpty());
        }
    }
}
